// After a failed submit, move focus to the error summary so keyboard and screen reader users
// hear what went wrong first. Without JavaScript the summary is still at the top of the form.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});
