// Dashboard filters: a changed select shows its figures at once (the form is a GET, so the URL — the
// view to share — follows). Without JavaScript, the "Afficher" button does the same.
document.querySelectorAll("form[data-autosubmit] select").forEach((select) => {
  select.addEventListener("change", () => select.form.requestSubmit());
});
