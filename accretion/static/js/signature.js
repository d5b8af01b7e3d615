// Drawn signature on a canvas (finger, pen or mouse) for the consent form.
// The server checks the strokes and the PNG again; this only captures them.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-signature-form]");
  if (!form || !window.SignaturePad) return;
  const canvas = form.querySelector("canvas[data-signature-pad]");
  const pad = new window.SignaturePad(canvas, { penColor: "#0b2545", backgroundColor: "rgba(255,255,255,0)" });
  const strokes = form.querySelector("input[name=strokes]");
  const image = form.querySelector("input[name=signature]");
  // A form that came back with errors carries the strokes already drawn: show them again, never sign twice.
  try {
    const drawn = JSON.parse(strokes.value || "[]");
    if (Array.isArray(drawn) && drawn.length) pad.fromData(drawn);
  } catch (error) {
    pad.clear();
  }

  function resize() {
    const data = pad.toData();
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    pad.fromData(data);
  }
  window.addEventListener("resize", resize);
  resize();

  form.querySelector("[data-signature-clear]").addEventListener("click", () => {
    pad.clear();
    image.value = "";
    strokes.value = "";
  });
  form.addEventListener("submit", () => {
    image.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
    strokes.value = JSON.stringify(pad.toData());
  });
});
