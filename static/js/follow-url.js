// Filter controls (a form marked `data-follows-url`) always say what the address says, as the
// list under them does. After Back the two can part: htmx restores a page from its history
// snapshot, which keeps the controls' attributes, not what was chosen (and it is taken after the
// next filter was already picked); a browser may refill controls from an earlier visit. So the
// controls are set from the query string, read as the server reads it, when the script runs,
// on every pageshow (back/forward cache too) and after each htmx history restore.
(() => {
  const TRUE = new Set(["1", "on", "true", "ja"]); // events.forms._TRUE

  function follow() {
    const query = new URLSearchParams(window.location.search);
    for (const form of document.querySelectorAll("form[data-follows-url]")) {
      for (const control of form.elements) {
        if (!control.name) {
          continue;
        }
        const value = (query.get(control.name) ?? "").trim();
        if (control.type === "checkbox") {
          control.checked = TRUE.has(value.toLowerCase());
        } else if (control instanceof HTMLSelectElement) {
          // A value the list does not offer is ignored by the server too: "all".
          const known = Array.from(control.options).some((option) => option.value === value);
          control.value = known ? value : control.options[0].value;
        }
      }
    }
  }

  follow();
  window.addEventListener("pageshow", follow);
  document.addEventListener("htmx:historyRestore", follow);
})();
