// A refused form: bring the first error into view and put the focus on it (the error summary, or the first
// question with an error), so the patient sees at once what is missing. Loaded with `defer`; no inline script.
document.addEventListener("DOMContentLoaded", () => {
  const first = document.querySelector("[data-error-summary], .question.has-error");
  if (!first) return;
  const target = first.matches("[data-error-summary]") ? first : first.querySelector("input, textarea, select") || first;
  first.scrollIntoView({ block: "start" });
  target.focus({ preventScroll: true });
});
