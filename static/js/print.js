// The report's "Afdrukken" button. It is hidden in the HTML and shown here, so that without
// JavaScript nobody sees a button that does nothing (the browser's own print command works).
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
});
