// Drawn signature on a canvas (finger, pen or mouse) for the consent form.
// The server checks the strokes and the PNG again; this only captures them.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-signature-form]");
  if (!form || !window.SignaturePad) return;
  const canvas = form.querySelector("canvas[data-signature-pad]");
  const pad = new window.SignaturePad(canvas, { penColor: "#0b2545", backgroundColor: "rgba(255,255,255,0)" });

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

  form.querySelector("[data-signature-clear]").addEventListener("click", () => pad.clear());
  form.addEventListener("submit", () => {
    form.querySelector("input[name=signature]").value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
    form.querySelector("input[name=strokes]").value = JSON.stringify(pad.toData());
  });
});
