"""Values copied from the documentation, for the ``doc_example`` and error scenarios."""

from __future__ import annotations

from typing import Any

__all__ = [
    "DOC_BASE_URL",
    "DOC_REASONING",
    "DOC_REQUEST",
    "DOC_RESULTS",
    "DOC_TEXT",
    "DOC_USAGE",
    "INTERNAL_ERROR",
    "INVALID_API_KEY",
    "RATE_LIMIT_200",
    "RATE_QUOTA",
]

#: The two results the seed pages print (titles as on the zh-Hant page and in S2's stream).
DOC_RESULTS: tuple[dict[str, Any], ...] = (
    {
        "title": "QingMing Festival Holiday Notice 2024",
        "url": "https://www.healthcabin.net/blog/wp-content/uploads/2024/04/QingMing-Festival-Holiday-Notice-2024.jpg",
        "index": 1,
    },
    {
        "title": "Serene Asian Landscape Stone Bridge Reflecting in Misty Water",
        "url": "https://thumbs.dreamstime.com/b/serene-asian-landscape-stone-bridge-reflecting-misty-water-tranquil-illustration-traditional-arch-spanning-lake-style-376972039.jpg",
        "index": 2,
    },
)

#: The reply the zh-Hant seed page prints, verbatim (its "..." is the page's own elision).
DOC_TEXT = (
    "好的,已經為您找到了幾張風格相似的風景圖。\n"
    "\n"
    "這些圖片都展現了典型的中國水墨畫或傳統山水畫的意境,具有以下幾個共同點:\n"
    "*   **傳統建築**:如亭台樓閣、拱橋等。\n"
    "*   **自然元素**:如遠山、湖泊、垂柳、荷花等。\n"
    "*   **藝術風格**:採用淡雅的色彩和柔和的線條,營造出寧靜、悠遠的氛圍。\n"
    "\n"
    "..."
)

#: Two rounds of reasoning, as S2 describes ("second round of reasoning"); the text is ours.
DOC_REASONING = (
    "The user wants landscape images in a style similar to the picture. I will search with it.",
    "The search found two images; I will describe what they have in common.",
)

#: (input, output, reasoning) tokens of the documented answer [S1; reasoning 40 from S2's example].
DOC_USAGE = (2753, 181, 40)

#: 401 body [S4, verbatim but for the request id].
INVALID_API_KEY = ("InvalidApiKey", "Invalid API-key provided.")
#: 429 code and message [S6].
RATE_QUOTA = ("Throttling.RateQuota", "Requests rate limit exceeded, please try again later.")
#: 500 code and message [S6; message as in T2's live capture].
INTERNAL_ERROR = ("InternalError", "Internal server error, please try again later.")
#: The rate limit that comes back as HTTP 200 with status "failed" [S4].
RATE_LIMIT_200 = {
    "code": "server_error",
    "message": "Operation model request rate limit exceeded, please try again later.",
}

#: The seed pages' base URL and request (quick start: without ``stream``; streaming: ``true``).
DOC_BASE_URL = "https://dashscope-intl.aliyuncs.com/api/v2/apps/protocols/compatible-mode/v1"
DOC_REQUEST: dict[str, Any] = {
    "model": "qwen3.5-plus",
    "input": [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "找與這張圖相似風格的風景圖"},
                {
                    "type": "input_image",
                    "image_url": "https://img.alicdn.com/imgextra/i4/"
                    "O1CN01YbrnSS1qtmsAkw0Ud_!!6000000005554-2-tps-788-450.png",
                },
            ],
        }
    ],
    "tools": [{"type": "image_search"}],
}
