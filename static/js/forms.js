// After a form comes back with errors, move focus to its first field in error,
// so keyboard and screen-reader users land where the fix is (the field's
// message is read with it; the error summary is a role="alert"). A link in the
// error summary focuses its field, not only scrolls to it. Loaded on every page
// (the Content-Security-Policy allows no inline script).
(() => {
  const first = document.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
  document.addEventListener("click", (e) => {
    const link = e.target.closest(".error-summary a[href^='#']");
    const field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (field) {
      e.preventDefault();
      field.focus();
    }
  });
})();
