import OpenAI from "openai";
import process from 'process';

const openai = new OpenAI({
    // 若沒有配置環境變數,請用百鍊API Key將下行替換為:apiKey: "sk-xxx",
    apiKey: process.env.DASHSCOPE_API_KEY,
    baseURL: "https://dashscope-intl.aliyuncs.com/api/v2/apps/protocols/compatible-mode/v1"
});

async function main() {
    const response = await openai.responses.create({
        model: "qwen3.5-plus",
        input: [
            {
                role: "user",
                content: [
                    { type: "input_text", text: "找與這張圖相似風格的風景圖" },
                    // 請將 image_url 替換為實際的圖片公網 URL
                    { type: "input_image", image_url: "https://img.alicdn.com/imgextra/i4/O1CN01YbrnSS1qtmsAkw0Ud_!!6000000005554-2-tps-788-450.png" }
                ]
            }
        ],
        tools: [
            { type: "image_search" }
        ]
    });

    // 遍曆 output 展示每個步驟
    for (const item of response.output) {
        if (item.type === "image_search_call") {
            console.log(`[工具調用] 圖搜圖 (status: ${item.status})`);
            // 解析並展示搜尋到的圖片列表
            if (item.output) {
                const images = JSON.parse(item.output);
                console.log(`  搜尋到 ${images.length} 張圖片:`);
                images.slice(0, 5).forEach(img => {
                    console.log(`  [${img.index}] ${img.title}`);
                    console.log(`      ${img.url}`);
                });
                if (images.length > 5) {
                    console.log(`  ... 共 ${images.length} 張圖片`);
                }
            }
        } else if (item.type === "message") {
            console.log(`\n[模型回複]`);
            console.log(response.output_text);
        }
    }

    // 展示 Token 用量和工具調用統計
    console.log(`\n[Token 用量] 輸入: ${response.usage.input_tokens}, 輸出: ${response.usage.output_tokens}, 合計: ${response.usage.total_tokens}`);
    if (response.usage && response.usage.x_tools) {
        for (const [toolName, info] of Object.entries(response.usage.x_tools)) {
            console.log(`[工具統計] ${toolName} 調用次數: ${info.count || 0}`);
        }
    }
}

main();
