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

response = client.responses.create(
    model="qwen3.5-plus",
    input=[{"role": "user", "content": input_content}],
    tools=[
        {
            "type": "image_search"
        }
    ]
)

# 遍曆 output 展示每個步驟
for item in response.output:
    if item.type == "image_search_call":
        print(f"[工具調用] 圖搜圖 (status: {item.status})")
        # 解析並展示搜尋到的圖片列表
        if item.output:
            images = json.loads(item.output)
            print(f"  搜尋到 {len(images)} 張圖片:")
            for img in images[:5]:  # 展示前5張
                print(f"  [{img['index']}] {img['title']}")
                print(f"      {img['url']}")
            if len(images) > 5:
                print(f"  ... 共 {len(images)} 張圖片")
    elif item.type == "message":
        print(f"\n[模型回複]")
        print(response.output_text)

# 展示 Token 用量和工具調用統計
print(f"\n[Token 用量] 輸入: {response.usage.input_tokens}, 輸出: {response.usage.output_tokens}, 合計: {response.usage.total_tokens}")
if hasattr(response.usage, 'x_tools') and response.usage.x_tools:
    for tool_name, info in response.usage.x_tools.items():
        print(f"[工具統計] {tool_name} 調用次數: {info.get('count', 0)}")
