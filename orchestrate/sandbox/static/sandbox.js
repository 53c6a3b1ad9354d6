// Browsers may show a page from their back/forward cache as it was when the
// shopper left it (Chrome does so even for pages sent with Cache-Control:
// no-store), so Back after paying would show a Pay form for a paid payment.
// Such a page is fetched again: the sandbox renders the payment as it is now.
addEventListener("pageshow", (event) => {
  if (event.persisted) {
    location.reload();
  }
});
