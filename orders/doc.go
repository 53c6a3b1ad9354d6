// Package orders is the shop's domain: the catalog, carts, orders and their
// payments through Orchestrate, with the SQL next to the methods that run it, and
// the reconciliation that brings every payment to its true state. Each file says
// what it holds; the questions a newcomer brings first:
//
//   - What does a checkout do? checkout.go (Checkout, PlaceOrder): the order,
//     its held units and its first attempt in one transaction, then the payment.
//   - Where does a payment start? payments.go (Start), for paying again.
//   - How is stock held, taken and released, and why can it never be oversold?
//     stock.go.
//   - Where do shipping addresses and rates live? address.go with the
//     per-country table of address_formats.go, and shipping.go.
//   - What does an order's change set off outside the app (the receipt, the
//     merchant's webhooks), and how is it done exactly once? effects.go; the
//     outbound webhooks are outbound.go, the mail is package mailer.
//   - What can the merchant do to an order (ship, cancel, record a refund)?
//     actions.go.
//   - What happens when a webhook arrives? inbox.go, then jobs.go runs the
//     confirmation it queued.
//   - How is a payment read back from Orchestrate? confirm.go.
//   - Where is a payment's state applied? apply.go, under the transition tables
//     of status.go.
//   - What finds payments that got no webhook? sweep.go.
//   - Where do the background jobs live? jobs.go.
//   - Where is the transaction helper? tx.go.
//   - What does a cart know of stock? cart_stock.go: a line capped at what is
//     available, short lines, a cart fitted to what is left.
//   - What does the admin read? admin_orders.go, admin_overview.go,
//     admin_timeline.go and admin_webhooks.go, one per admin page.
//   - How does the merchant change the catalog, and where is it recorded?
//     admin_products.go, under the rules of product_rules.go.
//   - Where do prices and currencies live? catalog.go and cart.go read prices in
//     one currency (product_prices), currency.go says which currencies the shop
//     sells in and guesses a shopper's, money.go writes every amount.
package orders
