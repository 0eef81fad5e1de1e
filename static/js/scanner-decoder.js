// The scanner's QR decoder, in a Worker so that decoding never holds up the page (its result
// panel, its taps). static/js/scanner.js sends "init" once, at page load, so that the WebAssembly
// is downloaded and compiled before the camera is open; then one frame at a time.
// A classic worker (importScripts): the zxing-wasm reader is its IIFE build, global ZXingWASM,
// the same file the page loads itself where a browser has no Worker.
/* global ZXingWASM */
"use strict";

let ready = null;
let options = null;
// One canvas for every frame, resized only when the frame's size changes.
let canvas = null;
let context = null;

function pixels(bitmap) {
  if (!canvas || canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
    canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    context = canvas.getContext("2d", { willReadFrequently: true });
  }
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

self.addEventListener("message", async (event) => {
  const message = event.data;
  if (message.type === "init") {
    options = message.options;
    try {
      importScripts(message.reader);
      ready = ZXingWASM.prepareZXingModule({
        overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? message.wasm : prefix + path) },
        fireImmediately: true,
      });
      await ready;
      self.postMessage({ type: "ready" });
    } catch (error) {
      self.postMessage({ type: "failed" });
    }
    return;
  }
  if (message.type === "decode") {
    let text = null;
    try {
      await ready;
      const found = await ZXingWASM.readBarcodes(pixels(message.bitmap), options);
      text = found.length ? found[0].text : null;
    } catch (error) {
      /* a frame that could not be read: the page sends the next one */
    }
    self.postMessage({ type: "decoded", id: message.id, text });
  }
});
