package main

// methodText closes docs/BENCHMARKS.md: how the figures are made.
const methodText = "## Method\n\n" +
	"- **One process run, one machine.** `make bench` (scripts/bench.sh) finds PostgreSQL like `make test`, and `go run ./bench` " +
	"creates a fresh `checkout_bench` database on it and migrates it. Every baseline runs in the same run as the figure it judges, " +
	"alternating with it, so a noisy neighbour hurts both.\n" +
	"- **Load** comes from vegeta v12 (`github.com/tsenart/vegeta/v12/lib`) used as a library over real loopback HTTP. " +
	"*Closed loop* (maximum throughput): a fixed number of workers (16 unless the row says otherwise), each sending its next request " +
	"as soon as the previous one answered; the figure is successful responses per second. *Constant rate* (latency): vegeta's " +
	"`ConstantPacer` sends requests on a fixed schedule whatever the server does, so a slow response never delays the next request " +
	"and queueing shows in the tail (no coordinated omission); latency rows are measured at 70% of the median maximum of the same " +
	"endpoint. A run with fewer than 99% successful responses fails the benchmark instead of producing a figure.\n" +
	"- **Medians.** Each figure is the median of 3 runs (`-runs`), each 2 s long after a 0.5 s warm-up (`-quick`: 0.5 s runs, for " +
	"development only).\n" +
	"- **The app** is built in-process by `internal/app` as `main` builds it, configured by the same environment as B11's binary " +
	"(every middleware, the Prometheus registry, sessions in PostgreSQL, request logging at info level into a discarding text handler, " +
	"pool size 20, served by the same `http.Server` settings, as are the baselines) with the Orchestrate sandbox " +
	"(memory store, webhooks off) on its own loopback port. River's workers are not started for B1–B7, so acknowledgement figures " +
	"contain no background work. B11, B12 and B14 run the real binary (`go build`) as child processes configured by environment, with River running.\n" +
	"- **Baselines.** B1: a bare `net/http` handler writing `ok`. B2: `testing.Benchmark` writing the bytes the templ render produced, " +
	"and the render at 40 lines against 20 for allocations per line. B3: a bare `net/http` mux calling the same `orders.Catalog.List` + " +
	"`Carts.Count` (GET /) and `Carts.Get` (GET /cart) and writing, with its Content-Length, the page the app sent the same shopper " +
	"for that path (fetched once before the runs): no templates, no middleware, the same bytes on the wire, as B2 compares the render " +
	"with writing its bytes. A row for the record (no verdict) compares the app's maximum with the same handler answering 2 bytes: " +
	"the difference is moving a 5 KB page through the loopback and the in-process load generator, which no renderer can remove. B4: the composed ceiling " +
	"`1/(1/H + q/S)` with H the bare hello's req/s and S from `pgbench` running the request's q = 1 statement (Payments.Poll: the order read " +
	"and the claim of its due attempts in one statement; no attempt is due in the run) as one script. B5: `pgbench -M prepared` at the same concurrency running the endpoint's own SQL as captured with a pgx " +
	"tracer (the inbox insert, River's unique `JobInsertFastMany`, its `pg_notify`, in one transaction) with random keys; the p50 " +
	"overhead is the app's p50 at one sender minus pgbench's average latency at one client. B6: B5's figure at 8 senders. B7: the " +
	"sandbox's own create latency (p50 of direct client calls, started 20 a second as the checkouts are) and a `pgbench` commit of " +
	"one row by one client throttled to 20 transactions a second (`-R 20`, its schedule lag left out), as the checkouts are sent " +
	"(\"2 commits\" = twice its latency; the back-to-back commit is shown beside it): on an idle machine every round trip costs two " +
	"to three times what it does back to back, for the app and for pgbench alike, so both sides are measured at the same rate; " +
	"at 100 ms, C ÷ L. B8: K ÷ L, measured from River's `attempted_at`/`finalized_at` of the sweeper's confirm jobs, over N open " +
	"attempts scaled down from 100,000 to fit the 10-minute budget; River's default `FetchCooldown` of 100 ms capped it at K jobs per " +
	"100 ms whatever L, so the app sets 10 ms (`orders/jobs.go`). B11: VmHWM from `/proc/<pid>/status` of the child process after " +
	"the load. B12: one child process vs three behind round-robin senders, on one database; exactly-once: 30 orders with real sandbox " +
	"payments completed in the sandbox, every `payment.succeeded` delivered twice to each instance at once, then each order must have " +
	"exactly one transition to paid. B12 runs twice: the instances on PostgreSQL directly (pool 20 each), then with every " +
	"instance's `DATABASE_URL` on a real PgBouncer (Debian's, started by the bench as `internal/pgbouncer` starts it for the tests) " +
	"in transaction pooling with `default_pool_size` 30, `DATABASE_MAX_CONNS=10` (3 instances × 10 ≤ 30, so no instance waits for " +
	"a server connection another holds idle), `DATABASE_QUERY_EXEC_MODE=cache_describe` (PgBouncer 1.18 keeps no prepared " +
	"statements) and `DATABASE_DIRECT_URL` on PostgreSQL for River's `LISTEN` and the migrations' lock; each configuration has its " +
	"own ratio (its three instances against its one) and its own exactly-once check, which also counts the warnings and errors " +
	"in the instances' logs that name a session feature (prepared statements, `LISTEN`, advisory locks: what transaction pooling " +
	"breaks), as pooler_test.go does; there must be none. On this machine the database and every instance share 2 cores, so three " +
	"instances add no CPU: they can only keep more backends busy (up to the 32 senders directly, against one instance's 20; through " +
	"PgBouncer, 30 against 10), and the direct ratio swings around 1.0× with whatever else runs (0.39× to 1.04× over this " +
	"release's runs).\n" +
	"- **B9** (admin orders list): `internal/seed` fills the bench database with 1,000,000 orders (items, attempts, every status " +
	"and currency, a year of dates) and as many processed webhook deliveries, in steps of 10k, 100k and 1M shared with B10 and B11. " +
	"A second in-process app built like the first (River off) on a pool whose statements can be recorded is signed in to over " +
	"HTTP like a browser (the form's `_csrf` token and cookie, then the POST; the session cookie is kept). Views: page 1; page 5,000 " +
	"(cursor `after=` the (created_at, id) of the 249,950th newest order, computed in SQL: 4,999 pages of 50); `status=paid` page 1 and " +
	"page 5,000; `status=needs_review` page 1; a search for one customer's email; a search matching every order (`example.com`). " +
	"The baseline: one request of the view is made with a pgx tracer on the app's pool recording every statement it runs (the " +
	"session lookup, the session's idle-deadline update and the list's one or two queries, with their arguments), then each statement runs under `EXPLAIN (ANALYZE, " +
	"FORMAT JSON)` unprepared as the app runs it; SQL time is planning + execution summed over the statements, the median of 3 runs " +
	"after one warm-up; every plan node is walked for a `Seq Scan`. The figure is the p99 at a constant rate of 50 requests/s, or " +
	"fewer for a view whose SQL would keep more than half a core busy (0.5 s ÷ SQL time, at least 2/s), so the tail is the page's and " +
	"not a queue's; a run lasts long enough for 30 requests at least. A row passes when p99 ≤ 2× SQL time, no plan reads a table sequentially and p99 ≤ 100 ms (issue #6).\n" +
	"- **B10** (growth): with 10k, 100k and 1M orders and webhook deliveries present, B5 at 8 senders (closed loop, as B5) and B9's " +
	"page 1 and email search p99 (as B9; the 1M figures are B9's own); the ratio is how many times worse the figure is than at 10k " +
	"(10k req/s ÷ req/s; p99 ÷ 10k p99), and only the 1M rows carry a verdict.\n" +
	"- **B11, CSV export**: the real binary (development defaults, so the admin is `admin`/`admin`) over the 1M-order database, " +
	"signed in over HTTP, downloads all of `/admin/orders.csv` once, parsing it with `encoding/csv` as it streams and discarding it; " +
	"the row count must equal the orders in the table (plus the header). The figure is VmHWM after the download.\n" +
	"- **B13** (the drop, issue #16): each run makes a product of its own with 100 on hand and 500 carts holding one unit of it, " +
	"then sends the 500 checkouts (POST /checkout, each shopper's own cart cookie and CSRF token) to the in-process app (0 ms sandbox, " +
	"River off) at once: 500 vegeta workers, one request each. The figure is answered checkouts per second (500 ÷ first request to " +
	"last answer), with, for the record, the 100 sent to payment per second (100 ÷ first request to the last 303). Each run is checked " +
	"in the answers and in the database: exactly 100 answered 303 to the payment page and 400 answered 409 (sold out), no 5xx, the " +
	"stock row 100 held of 100 on hand in 100 holds of 100 orders, no order or line flagged oversold; a run that breaks one fails the " +
	"row. One drop warms the app first. Baseline: before the runs, one checkout by a second instance of the app whose pool records " +
	"its statements (as B9's) is captured with its arguments (the checkout's batch of two statements, the cart's lock and the " +
	"statement that makes the order, replayed as a pgbench pipeline, `\\startpipeline` … `\\endpipeline`: one round trip and one " +
	"implicit transaction, as in the app; then the one statement recording the created payment) and turned into a " +
	"`pgbench -M prepared` script: each client checks out a cart of " +
	"its own holding one unit of one shared product, the order's public reference and the payment's id are made unique per " +
	"transaction, the statement after the pipeline finds the order and its attempt by that reference (pgbench cannot `\\gset` " +
	"inside a pipeline), each transaction first detaches the client's cart from its last order (`UPDATE carts SET order_id = " +
	"NULL`, outside the hot row's lock; the checkout would otherwise reuse that order), every other argument is the literal the " +
	"app sent. " +
	"The shared product has 1,000,000 on hand, so no transaction of any run is refused and each does the hold's whole work on the " +
	"one hot stock row (pgbench aborts a client on an error, so the refused path cannot be its baseline). pgbench runs 20 clients: " +
	"the 500 shoppers reach the database through the app's pool of 20 connections (500 connections would exceed " +
	"`max_connections` and measure connection handling, not the row).\n" +
	"- **B14** (the burst, issue #18): a database of its own (`checkout_bench_b14`, fresh and migrated, so no other row's orders " +
	"are swept) and an in-process sandbox of its own (memory store) that records when every API request (`/api/…`) arrives and " +
	"what it answered. Setup, not timed: an in-process app (River off, limiter off) checks out 2,000 carts of one unit each, " +
	"creating 2,000 open payments, with the sandbox unlimited and sending no webhooks. Then the sandbox's `rate_limit` fault is " +
	"set to 25 (429 with `Retry-After` above 25 API requests in any sliding second, from all callers), its counts are reset, " +
	"one instance of the real binary starts with `ORCHESTRATE_RATE_LIMIT=25` (the rest as every bench app: pool 20, River's " +
	"default 10 workers, `SWEEP_INTERVAL` 15 s), its webhook URL is registered, and all 2,000 payments are completed at once " +
	"through the sandbox's control endpoint (`POST /_sandbox/payments/{id}/complete`, 64 at a time, not an API request); the " +
	"sandbox delivers each `payment.succeeded` and the instance confirms each payment by reading it (webhook and sweep jobs, " +
	"background reads). The figure is the time from the moment the last completion answered until every order is paid in the " +
	"database (polled every 100 ms); the ideal is the API requests needed, one read a payment, divided by 25/s: the time a " +
	"client using the whole rate for nothing but those reads would need (an app reading a payment twice would need twice " +
	"as long); the requests the sandbox served meanwhile (a request answered 429 uses no capacity and is left out) are " +
	"reported beside it. The second row is the most API requests that reached the sandbox in any one-second sliding window from the " +
	"instance's start to the last order paid (above 25: MISS, rate exceeded), the 429s it answered, and the confirmation jobs " +
	"(`confirm_payment`, `confirm_attempt`) that recorded an error or ended retryable, discarded or cancelled (snoozing for the " +
	"rate is not an error). One run: at 25/s it lasts a minute and a half or more (`-quick`: 200 payments).\n" +
	"- Targets and baselines are issue #8's; a missed target stays a MISS in the table.\n"

// decisionsText follows the method in docs/BENCHMARKS.md: what the code does
// because of a measurement, so its comments can say why without the figures.
const decisionsText = "## What the figures decided\n\n" +
	"- **The cart's rows and the catalog's cards are written in Go, not templ** (`views/rows.go`): templ's generated code passes " +
	"every `{ expression }` through `fmt.Sprint`, two allocations each, so a list in templ costs allocations in proportion to its " +
	"length; B2's allocations-per-line row holds the Go writer to none per line.\n" +
	"- **Page buffers are pooled** (`handlers/render.go`): growing a fresh buffer to a page's size was a tenth of a page's CPU.\n" +
	"- **Responses are gzipped by klauspost's gzhttp at BestSpeed** (`handlers/compress.go`): a 5 KB page shrinks to 1.1 KB, within " +
	"5% of the best level, for about 13 µs; Echo's own Gzip middleware took 18 µs.\n" +
	"- **The orders list's totals load after the page** (`handlers/admin_orders.go`): summing the orders a filter selects takes a few " +
	"hundred milliseconds at a million orders, more than B9 allows a page.\n" +
	"- **The payment a checkout just created is recorded in one statement** (`orders/apply_created.go`): Apply's transaction " +
	"(begin, the order's lock, the adoption, the attempt's move, its event, commit) was six round trips after the create, about " +
	"1 ms of B7's checkout at 20/s; the one statement that locks the order, adopts the payment, moves the attempt and writes " +
	"the event takes about half, and anything but a pending payment of an attempt still creating goes through Apply.\n" +
	"- **B7's overhead, where it goes** (a pgx tracer timing each phase of checkouts 50 ms apart, as B7's 20/s sends them, " +
	"medians): the order's transaction is one round trip (the cart's lock and the statement that makes the order, its holds and " +
	"its attempt, sent as one batch that PostgreSQL runs as one implicit transaction: `orders/checkout.go`), 1.2 ms at 20/s " +
	"against ~0.5 ms back to back, its durable commit included; recording the created payment is one statement committed " +
	"without waiting for the disk (`synchronous_commit` off for that transaction only: were it lost in a crash of the database, " +
	"the attempt would be creating again, which reconciliation resolves by looking the payment up by the attempt id, as the " +
	"crash tests prove), 0.53 ms after a 100 ms create; the request before the batch 0.19 ms and the answer after the record " +
	"0.12 ms. Before #16 the checkout was 18 round trips and three commits. **The 100 ms row misses** (1.07× to 1.31× over " +
	"this session's runs; the 0 ms row passed at 0.80× and 0.88× and missed at 1.03×): after 100 ms of waiting on Orchestrate " +
	"the record meets a cold database, with two checkouts in flight on two cores. What would pass it, not done: answering the " +
	"shopper before recording the payment, which would let a shopper reach a payment superseded while it was being created.\n" +
	"- **The app's own CPU per request** (middleware, routing, templates: the part of B1 and B3 that is ours) is measured with " +
	"in-memory stores by `go test -run '^$' -bench Request -benchmem ./handlers` (`handlers/middleware_bench_test.go`).\n"
