"use strict";
// A printer's view of ESC/POS: decodes the commands a thermal printer receives (initialise, code
// page, text, styles, positions, cut) into lines of text and counts. Written from the Epson ESC/POS
// reference, independently of the library that encodes: an unknown command is an error, not skipped.

/** PC858 (PC850 with € at 0xD5), bytes 0x80..0xFF. */
const CP858 = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒáíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈ€ÍÎÏ┘┌█▄¦Ì▀ÓßÔÒõÕµþÞÚÛÙýÝ¯´\u00ad±‗¾¶§÷¸°¨·¹³²■\u00a0";
if ([...CP858].length !== 128) throw new Error("CP858 table must have 128 characters");
/** WPC1252, bytes 0x80..0x9F (0xA0..0xFF are Latin-1). Node's TextDecoder maps these to C1 controls. */
const CP1252_HIGH = "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ";
if ([...CP1252_HIGH].length !== 32) throw new Error("CP1252 table must have 32 characters");

function decodeByte(b, page) {
  if (b < 0x80) return String.fromCharCode(b);
  if (page === 19) return [...CP858][b - 0x80];
  if (page === 16) return b < 0xa0 ? [...CP1252_HIGH][b - 0x80] : String.fromCharCode(b);
  if (page === 1) return b === 0x96 || b === 0x97 ? "|" : "-"; // katakana page: ruled-line pieces
  return "?";
}

/**
 * @param {Buffer} buf
 * @returns {{ inits: number, cuts: number, lines: string[], text: string, bold: string[], big: string[], pages: number[], copies: string[] }}
 */
function decodeEscpos(buf) {
  /** @type {{ inits: number, cuts: number, lines: string[], text: string, bold: string[], big: string[], pages: number[], copies: string[] }} */
  const out = { inits: 0, cuts: 0, lines: [], text: "", bold: [], big: [], pages: [], copies: [] };
  let line = "";
  let page = 0;
  let bold = false;
  let size = 0;
  let copy = [];
  const newline = () => {
    out.lines.push(line.replace(/\s+$/, ""));
    copy.push(line.replace(/\s+$/, ""));
    line = "";
  };
  const moveTo = (col) => {
    if (col > line.length) line += " ".repeat(col - line.length);
  };
  let i = 0;
  const need = (n) => {
    if (i + n > buf.length) throw new Error(`truncated command at byte ${i}`);
  };
  while (i < buf.length) {
    const b = buf[i];
    if (b === 0x0a) {
      newline();
      i++;
    } else if (b === 0x1b) {
      need(2);
      const c = buf[i + 1];
      const n = buf[i + 2];
      switch (c) {
        case 0x40: // ESC @ initialise
          out.inits++;
          page = 0;
          bold = false;
          size = 0;
          i += 2;
          break;
        case 0x74: // ESC t n code page
          page = n;
          out.pages.push(n);
          i += 3;
          break;
        case 0x45: // ESC E n emphasis
          bold = (n & 1) === 1;
          i += 3;
          break;
        case 0x24: // ESC $ nL nH absolute position (dots; font A is 12 dots wide)
          need(4);
          moveTo(Math.floor((buf[i + 2] + 256 * buf[i + 3]) / 12));
          i += 4;
          break;
        case 0x5c: // ESC \ nL nH relative position
          need(4);
          moveTo(line.length + Math.floor((((buf[i + 2] + 256 * buf[i + 3]) << 16) >> 16) / 12));
          i += 4;
          break;
        case 0x2d: // ESC - n underline
        case 0x4d: // ESC M n font
        case 0x61: // ESC a n justification
        case 0x7b: // ESC { n upside down
        case 0x20: // ESC SP n right-side spacing
        case 0x33: // ESC 3 n line spacing
        case 0x64: // ESC d n feed lines
        case 0x4a: // ESC J n feed dots
        case 0x52: // ESC R n international set
          i += 3;
          break;
        case 0x32: // ESC 2 default line spacing
          i += 2;
          break;
        default:
          throw new Error(`unknown command ESC 0x${c.toString(16)} at byte ${i}`);
      }
    } else if (b === 0x1d) {
      need(2);
      const c = buf[i + 1];
      const n = buf[i + 2];
      switch (c) {
        case 0x21: // GS ! n character size
          size = n;
          i += 3;
          break;
        case 0x56: // GS V m [n] cut
          out.cuts++;
          if (line) newline();
          out.copies.push(copy.join("\n"));
          copy = [];
          i += n === 0x41 || n === 0x42 || n === 0x61 || n === 0x62 || n === 0x67 || n === 0x68 ? 4 : 3;
          break;
        case 0x42: // GS B n reverse
        case 0x72: // GS r n transmit status
        case 0x61: // GS a n automatic status back
          i += 3;
          break;
        case 0x4c: // GS L nL nH left margin
        case 0x57: // GS W nL nH print area width
          i += 4;
          break;
        default:
          throw new Error(`unknown command GS 0x${c.toString(16)} at byte ${i}`);
      }
    } else if (b === 0x1c) {
      need(2);
      const c = buf[i + 1];
      switch (c) {
        case 0x28: {
          // FS ( fn pL pH …: length-prefixed
          need(5);
          i += 5 + buf[i + 3] + 256 * buf[i + 4];
          break;
        }
        case 0x2e: // FS . cancel kanji
        case 0x26: // FS & kanji mode
          i += 2;
          break;
        case 0x2d: // FS - n kanji underline
        case 0x43: // FS C n kanji code system
          i += 3;
          break;
        case 0x53: // FS S n1 n2 kanji spacing
          i += 4;
          break;
        default:
          throw new Error(`unknown command FS 0x${c.toString(16)} at byte ${i}`);
      }
    } else if (b < 0x20) {
      throw new Error(`unexpected control byte 0x${b.toString(16)} at byte ${i}`);
    } else {
      const ch = decodeByte(b, page);
      const wide = (size & 0x70) !== 0;
      line += wide ? ch + " " : ch;
      if (bold && ch.trim()) out.bold.push(ch);
      if (size !== 0 && ch.trim()) out.big.push(ch);
      i++;
    }
  }
  if (line) newline();
  out.text = out.lines.join("\n");
  out.bold = [out.bold.join("")];
  out.big = [out.big.join("")];
  return out;
}

module.exports = { decodeEscpos };
