import os
import json
from openai import OpenAI

client = OpenAI(
    # 若沒有配置環境變數,請用百鍊API Key將下行替換為:api_key="sk-xxx",
    api_key=os.getenv("DASHSCOPE_API_KEY"),
    base_url="https://dashscope-intl.aliyuncs.com/api/v2/apps/protocols/compatible-mode/v1"
)

input_content = [
    {"type": "input_text", "text": "找與這張圖相似風格的風景圖"},
    # 請將 image_url 替換為實際的圖片公網 URL
    {"type": "input_image", "image_url": "https://img.alicdn.com/imgextra/i4/O1CN01YbrnSS1qtmsAkw0Ud_!!6000000005554-2-tps-788-450.png"}
]

stream = client.responses.create(
    model="qwen3.5-plus",
    input=[{"role": "user", "content": input_content}],
    tools=[{"type": "image_search"}],
    stream=True
)

for event in stream:
    # 工具調用開始
    if event.type == "response.output_item.added":
        if event.item.type == "image_search_call":
            print("[工具調用] 圖搜圖搜尋中...")
    # 工具調用完成,解析並展示搜尋到的圖片列表
    elif event.type == "response.output_item.done":
        if event.item.type == "image_search_call":
            print(f"[工具調用] 圖搜圖完成 (status: {event.item.status})")
            if event.item.output:
                images = json.loads(event.item.output)
                print(f"  搜尋到 {len(images)} 張圖片:")
                for img in images[:5]:  # 展示前5張
                    print(f"  [{img['index']}] {img['title']}")
                    print(f"      {img['url']}")
                if len(images) > 5:
                    print(f"  ... 共 {len(images)} 張圖片")
    # 模型回複開始
    elif event.type == "response.content_part.added":
        print(f"\n[模型回複]")
    # 流式文本輸出
    elif event.type == "response.output_text.delta":
        print(event.delta, end="", flush=True)
    # 響應完成,輸出用量
    elif event.type == "response.completed":
        usage = event.response.usage
        print(f"\n\n[Token 用量] 輸入: {usage.input_tokens}, 輸出: {usage.output_tokens}, 合計: {usage.total_tokens}")
        if hasattr(usage, 'x_tools') and usage.x_tools:
            for tool_name, info in usage.x_tools.items():
                print(f"[工具統計] {tool_name} 調用次數: {info.get('count', 0)}")
