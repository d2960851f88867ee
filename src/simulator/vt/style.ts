/**
 * The page's stylesheet. Light by default, dark with `prefers-color-scheme: dark`; the classes
 * `.dark` / `.light` on <html> (or `?theme=dark|light`) force one (Node-RED's dark editor theme).
 */
const DARK = `
  color-scheme: dark;
  --bg: #16181b;
  --panel: #212428;
  --text: #e8eaed;
  --muted: #a9b0b8;
  --border: #3b4047;
  --screen: #0f1a14;
  --screen-text: #d7f5e1;
  --btn: #2b2f35;
  --btn-text: #e8eaed;
  --btn-border: #7d8792;
  --btn-hover: #353a41;
  --disabled-text: #80878f;
  --disabled-bg: #24272b;
  --focus: #8ab4f8;
  --on: #5cc784;
  --off: #6f7780;
  --ok: #7ddc9c;
  --ok-bg: #12301e;
  --bad: #ff9d94;
  --bad-bg: #3b1714;
  --wait: #ffc766;
  --wait-bg: #33270f;
  --busy: #9cc2ff;
  --busy-bg: #14253d;
  --offline-bg: #2a2d31;

`;

export const VT_CSS = String.raw`
:root {
  color-scheme: light;
  --bg: #f3f4f6;
  --panel: #ffffff;
  --text: #16191d;
  --muted: #4f5761;
  --border: #c9cfd6;
  --screen: #e8efe9;
  --screen-text: #102018;
  --btn: #ffffff;
  --btn-text: #16191d;
  --btn-border: #7b8591;
  --btn-hover: #eef1f4;
  --disabled-text: #7a828c;
  --disabled-bg: #eceef1;
  --focus: #1857c4;
  --on: #1d6b3a;
  --off: #8a939d;
  --ok: #16723b;
  --ok-bg: #ddf3e4;
  --bad: #b3261e;
  --bad-bg: #fbe2df;
  --wait: #8a4b00;
  --wait-bg: #fdf0d5;
  --busy: #1d4f91;
  --busy-bg: #e1ecfb;
  --offline-bg: #e4e6ea;
}
@media (prefers-color-scheme: dark) {
  :root:not(.light) {${DARK}}
}
:root.dark {${DARK}}
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--text); }
body {
  margin: 0 auto;
  max-width: 72rem;
  padding: 1rem 1.25rem 2rem;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
h1 { font-size: 1.35rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 0; }
h3 { font-size: .8rem; margin: 0 0 .3rem; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
.page-head { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: baseline; justify-content: space-between; }
.intro { color: var(--muted); margin: .4rem 0 1rem; max-width: 60rem; }
.conn { margin: 0; font-size: .9rem; padding: .15rem .6rem; border-radius: 999px; border: 1px solid var(--border); }
.conn::before { content: ""; display: inline-block; width: .6rem; height: .6rem; border-radius: 50%; margin-right: .4rem; background: var(--off); }
.conn[data-conn="live"]::before { background: var(--on); }
.conn[data-conn="reconnecting"]::before { background: var(--wait); }
.conn[data-conn="stopped"]::before { background: var(--bad); }
.grid { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 36rem), 1fr)); }
/* A terminal and, beside it, its receipt printer (below it on a narrow screen). */
.counter { display: grid; gap: .75rem; grid-template-columns: repeat(auto-fit, minmax(17rem, 1fr)); align-items: start; }
.printer {
  background: var(--panel);
  border: 1px solid var(--border);
  border-radius: 14px;
  padding: .9rem;
  min-width: 0;
}
.printer-empty { margin: 0; color: var(--muted); font-size: .9rem; }
.printer-empty[hidden] { display: none; }
.roll { max-height: 38rem; overflow-y: auto; display: flex; flex-direction: column; gap: .8rem; }
.roll:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.slip { margin: 0; }
.slip figcaption { font-size: .85rem; margin-bottom: .3rem; overflow-wrap: anywhere; }
.slip time { color: var(--muted); font-variant-numeric: tabular-nums; }
.slip-id { color: var(--muted); }
/* Thermal paper is white in any theme: the slip's picture is black on transparent. */
.paper { display: block; width: auto; max-width: 100%; height: auto; background: #fff; color: #000; border: 1px solid var(--border); border-radius: 4px; box-shadow: 0 1px 3px rgba(0, 0, 0, .25); }
.paper-text, .slip-text pre { font: 12px/1.3 ui-monospace, "Cascadia Mono", Menlo, Consolas, monospace; padding: .5rem; margin: 0; overflow-x: auto; white-space: pre; }
.slip-text summary { cursor: pointer; font-size: .85rem; color: var(--muted); margin-top: .3rem; }
.terminal {
  min-width: 0;
  background: var(--panel);
  border: 1px solid var(--border);
  border-radius: 14px;
  padding: .9rem;
  display: flex;
  flex-direction: column;
  gap: .7rem;
}
.terminal[aria-busy="true"] { cursor: progress; }
.terminal-head { display: flex; align-items: center; justify-content: space-between; gap: .5rem; }
.account { font-weight: normal; color: var(--muted); font-size: .85rem; margin-left: .4rem; }
.badge { font-size: .8rem; padding: .1rem .55rem; border-radius: 999px; border: 1px solid var(--border); color: var(--muted); }
.screen {
  background: var(--screen);
  color: var(--screen-text);
  border-radius: 10px;
  border: 3px solid var(--border);
  padding: .7rem .8rem;
  min-height: 7.2rem;
  display: flex;
  flex-direction: column;
  justify-content: center;
  text-align: center;
}
.amount { font-size: 1.1rem; font-variant-numeric: tabular-nums; min-height: 1.5rem; }
.headline { font-size: 1.55rem; font-weight: 700; line-height: 1.2; }
.detail { font-size: .8rem; opacity: .85; overflow-wrap: anywhere; }
.signature { font-size: .85rem; font-weight: 600; overflow-wrap: anywhere; }
.signature:empty { display: none; }
.tone-ok .screen { border-color: var(--ok); background: var(--ok-bg); color: var(--ok); }
.tone-bad .screen { border-color: var(--bad); background: var(--bad-bg); color: var(--bad); }
.tone-waiting .screen { border-color: var(--wait); background: var(--wait-bg); color: var(--wait); }
.tone-busy .screen { border-color: var(--busy); background: var(--busy-bg); color: var(--busy); }
.tone-offline .screen { background: var(--offline-bg); color: var(--muted); border-style: dashed; }
.tone-ok .detail, .tone-bad .detail, .tone-waiting .detail, .tone-busy .detail { color: var(--text); }
.hint { margin: 0; min-height: 1.3rem; color: var(--muted); font-size: .9rem; }
.buttons { display: grid; grid-template-columns: 1fr 1fr; gap: .4rem; }
button {
  font: inherit;
  color: var(--btn-text);
  background: var(--btn);
  border: 1px solid var(--btn-border);
  border-radius: 8px;
  padding: .45rem .6rem;
  min-height: 2.5rem;
  cursor: pointer;
}
button:hover:not(:disabled) { background: var(--btn-hover); }
.keypad { margin: .2rem 0 .4rem; }
.keypad[hidden] { display: none; }
.keypad .pin { font-size: 1.1rem; margin-bottom: .3rem; min-height: 1.5rem; letter-spacing: .2em; }
.keys { display: grid; grid-template-columns: repeat(3, 1fr); gap: .3rem; max-width: 14rem; }
/* The step a person would normally take next. */
button.next:not(:disabled) { border: 2px solid var(--focus); font-weight: 600; }
button:disabled { color: var(--disabled-text); background: var(--disabled-bg); border-style: dashed; border-color: var(--border); cursor: not-allowed; }
button:focus-visible, .screen:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.switches { display: flex; flex-wrap: wrap; gap: .5rem; }
.switch { display: inline-flex; align-items: center; gap: .5rem; padding: .35rem .7rem .35rem .45rem; min-height: 2.3rem; border-radius: 999px; }
.knob { position: relative; width: 2.2rem; height: 1.25rem; border-radius: 999px; background: var(--off); flex: none; }
.knob::after { content: ""; position: absolute; top: .15rem; left: .15rem; width: .95rem; height: .95rem; border-radius: 50%; background: #fff; transition: left .12s; }
.switch[aria-checked="true"] .knob { background: var(--on); }
.switch[aria-checked="true"] .knob::after { left: 1.1rem; }
.switch-state { color: var(--muted); font-size: .85rem; }
.error { margin: 0; color: var(--bad); font-size: .9rem; min-height: 0; }
.error:empty { display: none; }
.empty { color: var(--muted); }
@media (prefers-reduced-motion: reduce) { .knob::after { transition: none; } }
@media (forced-colors: active) { .knob, .knob::after { border: 1px solid CanvasText; } button:disabled { border-style: dotted; } }
`;
