"""The documented examples of shared/reference/wire-format.md, verbatim, as named cases.

Where Alibaba's examples elide text with ``…`` inside a JSON string, the string is kept as
printed; where they elide JSON structure, the example is not used (see test_schemas.py).
"""

from __future__ import annotations

import json
from typing import Any

# §2: the non-streaming Response [S2]
RESPONSE_BASIC = json.loads("""{"created_at": 1771165900, "id": "f75c28fb-4064-48ed-90da-4d2cc4362xxx", "model": "qwen3.5-plus",
 "object": "response",
 "output": [{"content": [{"annotations": [], "text": "Hello! ...", "type": "output_text"}],
             "id": "msg_89ad23e6-f128-4d4c-b7a1-a786e7880xxx", "role": "assistant",
             "status": "completed", "type": "message"}],
 "parallel_tool_calls": false, "status": "completed", "tool_choice": "auto", "tools": [],
 "usage": {"input_tokens": 57, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 44,
           "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 101,
           "x_details": [{"input_tokens": 57, "output_tokens": 44, "total_tokens": 101,
                          "x_billing_type": "response_api"}]}}""")

# §2: S2 prints created_at as a float
RESPONSE_FLOAT_CREATED_AT = {**RESPONSE_BASIC, "created_at": 1771165900.0}

# §5: the rate limit that arrives as HTTP 200 [S4]
RATE_LIMIT_200 = json.loads(
    """{"created_at":1775189716,"error":{"code":"server_error","message":"Operation model request rate limit exceeded, please try again later."},"id":"resp_e158ca4e-a71c-9a8b-aebe-169a650508d0","model":"","object":"response","output":[],"parallel_tool_calls":false,"status":"failed","tool_choice":"auto","tools":[]}"""
)

RESPONSES: dict[str, dict[str, Any]] = {
    "non_stream_basic": RESPONSE_BASIC,
    "non_stream_float_created_at": RESPONSE_FLOAT_CREATED_AT,
    "rate_limit_as_200": RATE_LIMIT_200,
}

# §5: error bodies
ERRORS: dict[str, dict[str, Any]] = {
    "flat_400": json.loads(
        """{"request_id":"0bf11b24-0c67-95da-bb15-f85dabcfdb7f","code":"InvalidParameter","message":"[400] missing_required_parameter: Missing required parameter: 'model'."}"""
    ),
    "flat_401": json.loads(
        """{"request_id":"5dc15bba-5586-9f64-980f-c36b679d9a65","code":"InvalidApiKey","message":"Invalid API-key provided."}"""
    ),
    "envelope_401": json.loads(
        """{"error":{"message":"Incorrect API key provided. For details, see: https://help.aliyun.com/zh/model-studio/error-code#apikey-error","type":"invalid_request_error","param":null,"code":"invalid_api_key"},"request_id":"0a1b"}"""
    ),
    "envelope_429": json.loads(
        """{"error":{"code":"Throttling.RateQuota","message":"Requests rate limit exceeded, please try again later."}}"""
    ),
    "envelope_404": json.loads(
        """{"error":{"code":"InvalidParameter","message":"Model can not be found."}}"""
    ),
    "envelope_500": json.loads(
        """{"error":{"code":"InternalError","message":"Internal server error, please try again later."}}"""
    ),
}

# §4.3 and §8: stream events
EVENTS: dict[str, dict[str, Any]] = {
    "created": json.loads(
        """{"sequence_number":0,"type":"response.created","response":{"output":[],"parallel_tool_calls":false,"created_at":1769435906,"tool_choice":"auto","model":"","id":"863df8d9-…","tools":[],"object":"response","status":"queued"}}"""
    ),
    "reasoning_added": json.loads(
        """{"sequence_number":2,"item":{"summary":[],"type":"reasoning","id":"msg_…"},"output_index":0,"type":"response.output_item.added"}"""
    ),
    "reasoning_summary_delta": json.loads(
        """{"delta":"…","sequence_number":3,"output_index":0,"type":"response.reasoning_summary_text.delta","item_id":"msg_…","summary_index":0}"""
    ),
    "reasoning_summary_done": json.loads(
        """{"sequence_number":4,"text":"<full>","output_index":0,"type":"response.reasoning_summary_text.done","item_id":"msg_5bd0...e001","summary_index":0}"""
    ),
    "reasoning_item_done": json.loads(
        """{"sequence_number":5,"item":{"summary":[{"type":"summary_text","text":"<full>"}],"type":"reasoning","id":"msg_5bd0...e001"},"output_index":0,"type":"response.output_item.done"}"""
    ),
    "image_search_added": json.loads(
        r"""{"sequence_number":29,"item":{"name":"image_search","arguments":"{\"img_idx\": 0, \"bbox\": [0, 0, 1000, 1000]}","id":"msg_xxx","type":"image_search_call","status":"in_progress"},"output_index":1,"type":"response.output_item.added"}"""
    ),
    "image_search_done": json.loads(
        r"""{"sequence_number":30,"item":{"name":"image_search","output":"[{\"title\": \"Landscape background...\", \"url\": \"https://example.com/landscape.jpg\", \"index\": 1}, ...]","arguments":"{\"img_idx\": 0, \"bbox\": [0, 0, 1000, 1000]}","id":"msg_xxx","type":"image_search_call","status":"completed"},"output_index":1,"type":"response.output_item.done"}"""
    ),
    "image_search_done_seed_results": json.loads(
        r"""{"sequence_number":7,"item":{"name":"image_search","output":"[{\"title\": \"QingMing Festival Holiday Notice 2024\", \"url\": \"https://www.healthcabin.net/blog/wp-content/uploads/2024/04/QingMing-Festival-Holiday-Notice-2024.jpg\", \"index\": 1}, {\"title\": \"Serene Asian Landscape Stone Bridge Reflecting in Misty Water\", \"url\": \"https://thumbs.dreamstime.com/b/serene-asian-landscape-stone-bridge-reflecting-misty-water-tranquil-illustration-traditional-arch-spanning-lake-style-376972039.jpg\", \"index\": 2}]","arguments":"{\"img_idx\": 0, \"bbox\": [0, 0, 1000, 1000]}","id":"msg_0b1c2d3e-6a1f-4c55-9a0e-2f7d1c9e4b21","type":"image_search_call","status":"completed"},"output_index":1,"type":"response.output_item.done"}"""
    ),
    "message_added": json.loads(
        """{"item":{"id":"msg_…","content":[],"role":"assistant","status":"in_progress","type":"message"},"output_index":0,"sequence_number":2,"type":"response.output_item.added"}"""
    ),
    "content_part_added": json.loads(
        """{"content_index":0,"item_id":"msg_…","output_index":0,"part":{"annotations":[],"text":"","type":"output_text","logprobs":null},"sequence_number":3,"type":"response.content_part.added"}"""
    ),
    "output_text_delta": json.loads(
        """{"content_index":0,"delta":"Artificial intelligence","item_id":"msg_…","logprobs":[],"output_index":0,"sequence_number":4,"type":"response.output_text.delta"}"""
    ),
    "output_text_delta_cjk": json.loads(
        """{"content_index":0,"delta":"好的,已经为您找到了","item_id":"msg_45a3...","logprobs":[],"output_index":3,"sequence_number":14,"type":"response.output_text.delta"}"""
    ),
    "web_search_added": json.loads(
        """{"sequence_number":15,"item":{"action":{"type":"search","query":"Web search"},"id":"msg_…","type":"web_search_call","status":"in_progress"},"output_index":1,"type":"response.output_item.added"}"""
    ),
    "web_search_in_progress": json.loads(
        """{"sequence_number":16,"output_index":1,"type":"response.web_search_call.in_progress","item_id":"msg_…"}"""
    ),
    "web_search_image_added": json.loads(
        r"""{"sequence_number":15,"item":{"name":"web_search_image","arguments":"{\"queries\": [\"cat picture\", \"cute cat\"]}","id":"msg_…","type":"web_search_image","status":"in_progress"},"output_index":1,"type":"response.output_item.added"}"""
    ),
    "image_search_completed": json.loads(
        """{"sequence_number":40,"type":"response.completed","response":{"id":"c9f9c06b-...","created_at":1771165743,"model":"qwen3.5-plus","object":"response","output":[],"parallel_tool_calls":false,"status":"completed","tool_choice":"auto","tools":[{"type":"image_search"}],"usage":{"input_tokens":2753,"input_tokens_details":{"cached_tokens":0},"output_tokens":181,"output_tokens_details":{"reasoning_tokens":40},"total_tokens":2934,"x_details":[{"input_tokens":2753,"output_tokens":181,"total_tokens":2934,"x_billing_type":"response_api"}],"x_tools":{"image_search":{"count":1}}}}}"""
    ),
    "openai_error_event": json.loads(
        """{"type":"error","sequence_number":3,"code":"server_error","message":"The server had an error.","param":null}"""
    ),
}

# §8: json.loads of the documented image_search output
IMAGE_RESULTS = json.loads(EVENTS["image_search_done_seed_results"]["item"]["output"])
IMAGE_ARGUMENTS = json.loads(EVENTS["image_search_added"]["item"]["arguments"])
