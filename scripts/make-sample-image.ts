// Draws the default sample image for `scratchnet viz features` (assets/sample.png): a potted
// cactus with flowers under a striped sky, as an SVG rendered by resvg. Made by the project, so
// it can ship with it; edges in every direction, blobs and stripes give each filter something
// to respond to. Its red channel (what the feature maps use, as in the reference) has contrast:
// green cactus dark, pink flowers and terracotta pot bright.
//   node --import tsx scripts/make-sample-image.ts [out.png]

import { Resvg } from '@resvg/resvg-js';
import { writeFileAtomic } from '../src/io/atomic.js';

const size = 128;
const spines: string[] = [];
for (let i = 0; i < 9; i++) {
  const y = 40 + i * 7;
  spines.push(`<line x1="56" y1="${y}" x2="50" y2="${y - 4}"/>`, `<line x1="72" y1="${y + 3}" x2="78" y2="${y - 1}"/>`);
}
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 128 128">
  <rect width="128" height="128" fill="#a9cbe8"/>
  <g fill="#c9def0">${Array.from({ length: 6 }, (_, i) => `<rect x="0" y="${i * 12}" width="128" height="5"/>`).join('')}</g>
  <circle cx="104" cy="22" r="12" fill="#ffd34d"/>
  <rect x="0" y="100" width="128" height="28" fill="#d9b98a"/>
  <path d="M40 96 L88 96 L82 124 L46 124 Z" fill="#c8623a"/>
  <rect x="37" y="92" width="54" height="8" rx="2" fill="#e07a4a"/>
  <g stroke="#f0a070" stroke-width="2"><line x1="50" y1="104" x2="78" y2="104"/><line x1="51" y1="112" x2="77" y2="112"/></g>
  <rect x="54" y="30" width="20" height="64" rx="10" fill="#3f7d3a"/>
  <path d="M56 70 L40 70 Q32 70 32 60 L32 44 Q32 38 37 38 Q42 38 42 44 L42 60 L56 60 Z" fill="#4a8c42"/>
  <path d="M72 62 L86 62 Q94 62 94 52 L94 40 Q94 34 89 34 Q84 34 84 40 L84 52 L72 52 Z" fill="#4a8c42"/>
  <g stroke="#2a5a28" stroke-width="1">${spines.join('')}</g>
  <g fill="#f06a9a"><circle cx="64" cy="28" r="6"/><circle cx="37" cy="36" r="4.5"/><circle cx="89" cy="32" r="4.5"/></g>
  <g fill="#ffe0ec"><circle cx="64" cy="28" r="2"/><circle cx="37" cy="36" r="1.5"/><circle cx="89" cy="32" r="1.5"/></g>
</svg>`;

const out = process.argv[2] ?? new URL('../assets/sample.png', import.meta.url).pathname;
const png = new Resvg(svg, { fitTo: { mode: 'original' }, font: { loadSystemFonts: false } }).render().asPng();
await writeFileAtomic(out, png);
console.log(`wrote ${out} (${size}x${size})`);
