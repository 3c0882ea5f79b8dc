"""A natural-language search set: three users, each with about 600 memories of the kind a
coding assistant keeps for one project, and questions a user would ask, each naming the
memories that answer it (its evidence).

    python scripts/search_set.py [--jsonl]   # summary, or every memory and question as JSONL

Every text here is written for this project. Each scope holds hand-written facts (the
evidence, plus near misses that answer nothing) and generated filler: pull requests,
tickets, meeting notes, flaky tests, upgrades and the like, built from templates with a
fixed seed, so the set is the same on every run. The filler shares the everyday words of
the domain with the questions (test, deploy, team, review...), which is what makes plain
word matching rank the wrong memory first.

Questions come in three kinds:
  words       share the telling words with their evidence (identifiers, file names, names)
  paraphrase  ask in other words
  chatty      long, conversational, many common words around the point

Each question belongs to the dev split (for tuning the ranking) or the held-out split
(only measured, never tuned on), fixed by a hash of its text.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys

MEMORIES_PER_SCOPE = 600

# ---------------------------------------------------------------------------------------
# storefront: Maria's TypeScript shop
STOREFRONT_FACTS = {
    "pnpm": "Switched the monorepo from npm to pnpm on 2025-03-12; commit pnpm-lock.yaml and never package-lock.json.",
    "node": "The storefront runs on Node 20 LTS; .nvmrc pins 20.11.1.",
    "payments": "Payments go through Stripe; webhooks are verified with STRIPE_WEBHOOK_SECRET in apps/api/src/webhooks/stripe.ts.",
    "lead": "Dana Whitfield is the tech lead for checkout and signs off on anything touching payments.",
    "design": "Design reviews happen Thursdays at 14:00 with Tomás from the design team.",
    "css": "Styling is Tailwind CSS; no CSS-in-JS libraries (styled-components was removed in 2024 for bundle size).",
    "state": "Client state uses Zustand; React Query handles server data. Redux was ruled out as too much boilerplate.",
    "e2e": "End-to-end tests are Playwright specs under e2e/, run against the preview deployment.",
    "unit": "Unit tests use Vitest, not Jest; CI runs pnpm test -- --run.",
    "incident-cart": "Incident 2025-06-03: carts emptied for logged-in users after the session cookie was renamed; fixed by reading both cookie names for 30 days.",
    "images": "Product images are served from Cloudinary with f_auto,q_auto transformations.",
    "search": "Product search uses Algolia; the index is called prod_products and is rebuilt nightly by the sync-algolia job.",
    "flags": "Feature flags live in LaunchDarkly; flag keys are kebab-case, e.g. new-checkout-flow.",
    "deploy": "The web app deploys to Vercel on merge to main; the API runs on Fly.io in the ams and iad regions.",
    "db": "The API database is PostgreSQL 16 on Neon; migrations are written with Drizzle Kit.",
    "i18n": "Translations are in locales/<lang>/common.json; German and French are maintained by Lena Vogt.",
    "a11y": "Every new component needs an axe check in its Storybook story before review.",
    "commits": "Commit messages follow Conventional Commits (feat:, fix:, chore:) because release-please builds the changelog from them.",
    "review": "PRs need one approval; changes under apps/api/src/payments also need Dana as code owner.",
    "prettier": "Prettier with printWidth 100 and single quotes; the config is in .prettierrc.json.",
    "types": "Maria prefers type aliases over interfaces, except for the public props of shared components.",
    "sentry": "Errors are reported to Sentry; the DSN comes from NEXT_PUBLIC_SENTRY_DSN and source maps upload in the release step.",
    "perf": "Performance budget: largest contentful paint under 2.5 s on the product page, measured on a mid-range Android with Lighthouse CI.",
    "money": "Prices are stored as integer cents with an ISO 4217 currency code; never floats.",
    "tax": "Sales tax is computed by TaxJar for US orders; EU VAT is computed in-house in packages/tax.",
    "emails": "Transactional emails are sent through Postmark with templates in emails/ written in MJML.",
    "auth": "Customers log in with magic links via Auth.js; staff use Google Workspace SSO.",
    "freeze": "Code freeze for Black Friday runs from 2025-11-20 to 2025-12-02; only hotfixes approved by Dana.",
    "incident-stripe": "Incident 2025-09-14: duplicate charges when the Stripe webhook retried; fixed by idempotency keys on order creation.",
    "rate-limit": "The API rate limit is 100 requests per minute per IP, enforced with Upstash Redis.",
    "storybook": "Storybook is published to storybook.storefront.dev on every merge to main.",
    "env-local": "Local development needs a .env.local copied from .env.example; ask Raj for the Stripe test keys.",
    "raj": "Raj Patel maintains the CI pipeline and the GitHub Actions runners.",
    "monorepo": "The monorepo uses Turborepo; apps/web, apps/api and packages/ui are the main workspaces.",
    "dates": "Use date-fns for dates; moment.js is banned by an ESLint rule.",
    "analytics": "Product analytics use PostHog, self-hosted at analytics.storefront.dev; no Google Analytics for privacy reasons.",
    "shipping": "Shipping rates come from the Shippo API and are cached for 10 minutes per cart.",
    "retro": "Sprint retros are every other Friday; action items go into the Linear project STORE.",
    "linear": "Issue tracking is in Linear, team key STORE; bugs get the label bug and a severity from S1 to S4.",
    "oom": "The API container was OOM-killed at 512 MB during the catalog import; it now runs with 1 GB and NODE_OPTIONS=--max-old-space-size=768.",
    "coupons": "Coupon codes are uppercase, 8 characters, and validated in packages/promo/validate.ts.",
    "backups": "Neon branches serve as preview databases; production has point-in-time restore for 7 days.",
    "dark-mode": "Dark mode was postponed to Q2 2026 after the design system audit.",
    "maria-style": "Maria uses 2-space indentation and wants trailing commas everywhere.",
    "graphql": "We considered GraphQL for the storefront API but kept REST with OpenAPI, because the mobile team already generates clients from openapi.yaml.",
    # near misses: they answer none of the questions
    "yarn": "Yarn Berry was tried for a week in 2024 and abandoned because of plugin issues with Storybook.",
    "jest-legacy": "Jest is still used in the legacy admin app under legacy/admin, which nobody should extend.",
    "heroku": "The old Heroku app storefront-legacy was shut down on 2025-01-31.",
}

STOREFRONT_QUESTIONS = [
    ("words", "pnpm-lock.yaml", ["pnpm"]),
    ("words", "STRIPE_WEBHOOK_SECRET", ["payments"]),
    ("words", "prod_products index", ["search"]),
    ("words", "NODE_OPTIONS max-old-space-size", ["oom"]),
    ("words", "Who is Lena Vogt?", ["i18n"]),
    ("words", "Drizzle Kit migrations", ["db"]),
    ("words", ".prettierrc.json", ["prettier"]),
    ("words", "release-please changelog", ["commits"]),
    ("paraphrase", "Which package manager does the repo use now?", ["pnpm"]),
    ("paraphrase", "What runtime version should my laptop have for the shop?", ["node"]),
    ("paraphrase", "Who needs to okay changes to the payment code?", ["lead", "review"]),
    ("paraphrase", "When do we meet with the designers?", ["design"]),
    ("paraphrase", "How should I write the styles for a new button?", ["css"]),
    ("paraphrase", "Where should data fetched from the backend be kept in the frontend?", ["state"]),
    ("paraphrase", "How do we test whole user journeys in a browser?", ["e2e"]),
    ("paraphrase", "What happened when shoppers lost their baskets?", ["incident-cart"]),
    ("paraphrase", "Which service hosts and resizes our product photos?", ["images"]),
    ("paraphrase", "How do I switch a half-finished feature off in production?", ["flags"]),
    ("paraphrase", "Where does the backend run, and in which locations?", ["deploy"]),
    ("paraphrase", "Who takes care of the German and French texts?", ["i18n"]),
    ("paraphrase", "What must a new UI widget pass for accessibility?", ["a11y"]),
    ("paraphrase", "How should I phrase my commit summary?", ["commits"]),
    ("paraphrase", "Where do crash reports go?", ["sentry"]),
    ("paraphrase", "How fast must the product page render?", ["perf"]),
    ("paraphrase", "How should money amounts be represented?", ["money"]),
    ("paraphrase", "Who works out VAT for European orders?", ["tax"]),
    ("paraphrase", "How do shoppers sign in, and how do employees?", ["auth"]),
    ("paraphrase", "When can't we ship features before the holiday sale?", ["freeze"]),
    ("paraphrase", "Why were some customers billed twice?", ["incident-stripe"]),
    ("paraphrase", "How many calls per minute can one client make to the backend?", ["rate-limit"]),
    ("paraphrase", "Who do I ask for sandbox payment credentials?", ["env-local"]),
    ("paraphrase", "Which library should I use to format a timestamp?", ["dates"]),
    ("paraphrase", "Where are usage events tracked?", ["analytics"]),
    ("paraphrase", "How long are delivery quotes reused?", ["shipping"]),
    ("paraphrase", "Where do we file defects and how is their urgency marked?", ["linear"]),
    ("paraphrase", "What format do discount codes have?", ["coupons"]),
    ("paraphrase", "Can we roll the production database back to yesterday?", ["backups"]),
    ("paraphrase", "Is a night theme planned?", ["dark-mode"]),
    ("chatty", "hey, I'm setting up the project on a fresh laptop today, what do I need to do about environment variables and who can give me the keys I'll need?", ["env-local"]),
    ("chatty", "so I was wondering what we decided about using GraphQL for the API, did we ever look into it or is it still REST?", ["graphql"]),
    ("chatty", "I need to write some tests for a small utility function, which test runner are we supposed to use here and how do I run it in CI?", ["unit"]),
    ("chatty", "can you remind me what Maria likes in terms of code formatting, like indentation and commas and that kind of thing?", ["maria-style"]),
    ("chatty", "the api container keeps running out of memory when we import the catalog, did we already deal with something like this before?", ["oom"]),
    ("chatty", "I'm about to open a pull request that changes how refunds are processed, who has to review it and how many approvals do I need?", ["review", "lead"]),
    ("chatty", "when is the next retro and where should I put the action items we come up with?", ["retro"]),
    ("chatty", "what is the structure of the repo again, which folders are the main apps and packages?", ["monorepo"]),
    ("chatty", "I'm writing a new component, do we use interfaces or type aliases for the props in this codebase?", ["types"]),
    ("chatty", "who looks after the build pipeline and the runners if something is broken with CI?", ["raj"]),
    ("chatty", "where can I see the component library online, is it published somewhere?", ["storybook"]),
    ("chatty", "which email provider do we use for order confirmations and where are the templates?", ["emails"]),
]

STOREFRONT_VOCAB = {
    "components": ["checkout", "cart", "product page", "search page", "account settings", "order history",
                   "admin dashboard", "catalog import", "wishlist", "reviews widget", "payments API",
                   "shipping service", "promo engine", "header navigation", "newsletter signup"],
    "people": ["Dana", "Raj", "Lena", "Tomás", "Maria", "Jonas", "Aisha", "Pedro", "Chloe", "Victor"],
    "libs": [("react", "19.0"), ("next", "15.1"), ("zod", "3.24"), ("drizzle-orm", "0.38"), ("tailwindcss", "4.0"),
             ("@tanstack/react-query", "5.62"), ("stripe", "17.5"), ("vitest", "2.1"), ("playwright", "1.49"),
             ("eslint", "9.17"), ("typescript", "5.7"), ("zustand", "5.0")],
    "key": "STORE",
    "paths": ["apps/web/src/app/checkout/page.tsx", "apps/web/src/components/CartDrawer.tsx",
              "apps/api/src/routes/orders.ts", "packages/ui/src/Button.tsx", "apps/api/src/jobs/import.ts",
              "apps/web/src/lib/format.ts", "packages/promo/src/rules.ts", "apps/web/middleware.ts"],
    "envs": ["CART_TTL_HOURS", "CHECKOUT_TIMEOUT_MS", "IMPORT_BATCH_SIZE", "SEARCH_PAGE_SIZE", "PROMO_CACHE_SECONDS",
             "REVIEWS_MIN_RATING", "API_BASE_URL", "WISHLIST_LIMIT"],
    "tests": ["checkout.spec.ts > applies coupon", "cart.test.ts > merges guest cart", "orders.test.ts > paginates",
              "search.spec.ts > filters by price", "account.spec.ts > updates address", "import.test.ts > skips duplicates"],
    "platforms": ["Safari on iOS 17", "Firefox 133", "Chrome on Android", "Edge on Windows 11", "a slow 3G profile"],
}

# ---------------------------------------------------------------------------------------
# ingest: Kenji's event pipeline
INGEST_FACTS = {
    "kafka": "Events arrive on the Kafka topic ingest.events.v2 with 48 partitions; retention is 7 days.",
    "toolchain": "The ingest workers are Rust, pinned to toolchain 1.82 in rust-toolchain.toml.",
    "storage": "Aggregates are written to ClickHouse 24.3; raw events land in S3 as Parquet under s3://acme-ingest-raw/yyyy/mm/dd/.",
    "airflow": "Batch backfills are orchestrated by Airflow 2.9; DAGs live in dags/ and are deployed by syncing to the composer bucket.",
    "schemas": "Event schemas are Avro, registered in the Confluent schema registry with BACKWARD compatibility.",
    "ingrid": "Ingrid Solberg owns the Kafka clusters and must approve partition changes.",
    "paging": "Alerts page through PagerDuty service ingest-prod; the runbook is docs/runbooks/ingest.md.",
    "incident-lag": "Incident 2025-07-22: consumer lag reached 40 million messages after a rebalance storm; fixed with static group membership (group.instance.id).",
    "dedupe": "Events are deduplicated on (source_id, event_id) within a 24-hour window, using a RocksDB state store.",
    "python": "Python code uses uv for environments and ruff for linting and formatting; black and flake8 were removed.",
    "terraform": "Infrastructure is Terraform in infra/, with state in the GCS bucket acme-tf-state and one workspace per environment.",
    "gke": "Workers run on GKE as the deployment ingest-worker, with a HorizontalPodAutoscaler on consumer lag.",
    "secrets": "Secrets come from Google Secret Manager through the External Secrets operator; never commit .env files.",
    "backpressure": "When ClickHouse is slow, workers pause their Kafka partitions instead of buffering in memory (at most 50k in-flight events).",
    "utc": "All timestamps are stored in UTC as microseconds since the epoch; conversion happens only in dashboards.",
    "pii": "Email addresses and IPs are hashed with a salted SHA-256 before they leave the worker; the salt rotates quarterly.",
    "grafana": "Dashboards are in Grafana at grafana.acme.internal, folder Ingest; the key panel is consumer lag per partition.",
    "dlq": "Malformed events go to the dead-letter topic ingest.events.dlq with the parse error in a header.",
    "throughput": "Throughput target is 200k events per second per cluster; the load test on 2025-08-30 reached 240k.",
    "kenji-bench": "Kenji wants every PR that touches the hot path in crates/decode to include a benchmark result.",
    "simd": "Decoding uses simd-json for JSON sources and apache-avro for Avro; serde_json cost 3x the CPU.",
    "errors": "Library crates use thiserror; binaries use anyhow with context on every fallible call.",
    "retention": "Raw Parquet files in S3 move to Glacier after 90 days and are deleted after 2 years, for GDPR.",
    "contract": "Producers must bump the event version (v2 to v3) for any removed field; added optional fields are fine.",
    "release": "Releases are cut with cargo-release on Tuesdays; the Docker image is tagged with the git SHA and the version.",
    "standup": "The data platform standup is at 10:15 Berlin time, async on Fridays in #data-standup.",
    "sla": "The freshness SLA for dashboards is 15 minutes from event time to query.",
    "marcus": "Marcus Oyelaran leads the data platform team; escalations go to him after the on-call engineer.",
    "ci": "CI runs in Buildkite; the pipeline builds with sccache and runs cargo nextest.",
    "flaky": "The test kafka_rebalance_under_load is flaky on CI because of a 5 s timeout; it is quarantined with #[ignore] until the testcontainers upgrade.",
    "sampling": "Debug logs are sampled at 1% in production to keep log costs down; errors are never sampled.",
    "cost": "The monthly GCP bill for ingest is about 18k USD; ClickHouse storage is the largest line.",
    "dbt": "Downstream models are built with dbt in the analytics repo, owned by the analytics engineering team.",
    "partition-key": "The Kafka partition key is the tenant_id, so a tenant's events stay ordered.",
    "northwind": "The biggest tenant, northwind, sends 35% of all traffic and has its own consumer group.",
    "bigquery-move": "We moved from BigQuery to ClickHouse in February 2025 because of query cost on high-cardinality dashboards.",
    "zstd": "Parquet files use zstd level 3; snappy was dropped after the storage review.",
    "local": "Local development uses docker compose with Redpanda instead of Kafka; run make dev-up.",
    "kenji-prs": "Kenji prefers small PRs under 400 lines and squash merges.",
    "leave": "Kenji is on leave from 2025-12-19 to 2026-01-05; Ingrid covers his reviews.",
    "skew": "Events with timestamps more than 1 hour in the future are clamped to the arrival time and tagged skewed=true.",
    "ulid": "Event ids are ULIDs; older sources still send UUIDv4 and both are accepted.",
    "grpc": "The query API is gRPC with tonic; a REST gateway is generated with grpc-gateway for the web console.",
    "decoder-flag": "New decoders are rolled out per tenant with the DECODER_V2_TENANTS environment variable.",
    "hiring": "Hiring: the take-home for data engineers is the log-parsing exercise in the hiring repo; Marcus reviews it.",
    # near misses
    "flink": "Apache Flink was evaluated in 2024 for stateful processing but rejected because the team has no JVM experience.",
    "bigquery-finance": "BigQuery is still used by finance for their own reports; we do not write to it anymore.",
    "pubsub": "The old Pub/Sub pipeline was shut down in April 2024.",
}

INGEST_QUESTIONS = [
    ("words", "ingest.events.dlq", ["dlq"]),
    ("words", "group.instance.id", ["incident-lag"]),
    ("words", "DECODER_V2_TENANTS", ["decoder-flag"]),
    ("words", "rust-toolchain.toml", ["toolchain"]),
    ("words", "s3://acme-ingest-raw", ["storage"]),
    ("words", "kafka_rebalance_under_load", ["flaky"]),
    ("words", "cargo nextest Buildkite", ["ci"]),
    ("words", "northwind consumer group", ["northwind"]),
    ("paraphrase", "Which topic do incoming events come from, and how long are they kept?", ["kafka"]),
    ("paraphrase", "Where do summarized figures get stored?", ["storage"]),
    ("paraphrase", "What schedules the historical reprocessing jobs?", ["airflow"]),
    ("paraphrase", "How are message formats versioned and checked for compatibility?", ["schemas", "contract"]),
    ("paraphrase", "Who has to sign off on adding more partitions?", ["ingrid"]),
    ("paraphrase", "How do I get notified when production breaks, and where's the playbook?", ["paging"]),
    ("paraphrase", "How do we avoid processing the same event twice?", ["dedupe"]),
    ("paraphrase", "What do we lint the Python scripts with?", ["python"]),
    ("paraphrase", "Where is the cloud setup described as code?", ["terraform"]),
    ("paraphrase", "How do workers scale up when they fall behind?", ["gke"]),
    ("paraphrase", "Where do credentials come from in the cluster?", ["secrets"]),
    ("paraphrase", "What happens when the analytics database can't keep up?", ["backpressure"]),
    ("paraphrase", "Which time zone are stored times in?", ["utc"]),
    ("paraphrase", "How is personal data protected before it leaves a worker?", ["pii"]),
    ("paraphrase", "How many messages per second must one cluster handle?", ["throughput"]),
    ("paraphrase", "Which crates do we use for errors?", ["errors"]),
    ("paraphrase", "How long do we keep raw files?", ["retention"]),
    ("paraphrase", "How fresh must the charts be?", ["sla"]),
    ("paraphrase", "Who do I escalate to after the on-call person?", ["marcus"]),
    ("paraphrase", "Why was the query bill a problem before?", ["bigquery-move"]),
    ("paraphrase", "Which compression do our columnar files use?", ["zstd"]),
    ("paraphrase", "How do messages from one customer stay in order?", ["partition-key"]),
    ("paraphrase", "What identifier format do events carry?", ["ulid"]),
    ("paraphrase", "What happens to events stamped far ahead of now?", ["skew"]),
    ("chatty", "I'm touching the decoding code on the hot path, is there anything Kenji expects me to put in the pull request?", ["kenji-bench"]),
    ("chatty", "why are we using simd-json instead of plain serde_json for decoding, I thought serde was fine for this kind of thing?", ["simd"]),
    ("chatty", "I want to run the whole thing on my laptop without a real cluster, what's the easiest way to get it going?", ["local"]),
    ("chatty", "when do we usually cut releases and how are the container images tagged so I can find the one running in prod?", ["release"]),
    ("chatty", "what time is the daily meeting for the data team and do we have it on Fridays too?", ["standup"]),
    ("chatty", "our log bill went way up last month, do we do anything to reduce how much debug output gets stored in production?", ["sampling"]),
    ("chatty", "who reviews pull requests while Kenji is away over the holidays, and when is he back?", ["leave"]),
    ("chatty", "how big should my pull requests be for Kenji and does he like squash or merge commits?", ["kenji-prs"]),
    ("chatty", "roughly how much are we spending per month on cloud for this pipeline and what's the biggest cost?", ["cost"]),
    ("chatty", "where are the downstream analytics models built and who owns them, is it us?", ["dbt"]),
    ("chatty", "is there a REST API for the console or is everything gRPC, I need to call it from a browser?", ["grpc"]),
    ("chatty", "we're hiring a data engineer, what's the take-home assignment and who grades it?", ["hiring"]),
]

INGEST_VOCAB = {
    "components": ["decoder", "router", "dedupe stage", "ClickHouse sink", "S3 writer", "schema cache",
                   "tenant config service", "backfill DAG", "query API", "web console", "lag exporter",
                   "compaction job", "replay tool", "metrics pipeline", "alert rules"],
    "people": ["Kenji", "Ingrid", "Marcus", "Sofia", "Arjun", "Lukas", "Mei", "Tobias", "Nadia", "Femi"],
    "libs": [("tokio", "1.42"), ("rdkafka", "0.37"), ("clickhouse", "0.13"), ("arrow", "53.3"), ("parquet", "53.3"),
             ("tonic", "0.12"), ("rocksdb", "0.22"), ("tracing", "0.1.41"), ("apache-avro", "0.17"),
             ("simd-json", "0.14"), ("object_store", "0.11"), ("prometheus", "0.13")],
    "key": "ING",
    "paths": ["crates/decode/src/json.rs", "crates/router/src/lib.rs", "crates/sink/src/clickhouse.rs",
              "crates/dedupe/src/window.rs", "dags/backfill_daily.py", "infra/gke/worker.tf",
              "crates/query/src/api.rs", "tools/replay/main.rs"],
    "envs": ["SINK_BATCH_ROWS", "DEDUPE_WINDOW_HOURS", "ROUTER_THREADS", "S3_PART_SIZE_MB", "LAG_ALERT_THRESHOLD",
             "SCHEMA_CACHE_TTL", "QUERY_MAX_ROWS", "REPLAY_RATE_LIMIT"],
    "tests": ["decode::tests::nested_arrays", "sink::tests::retries_on_503", "dedupe::tests::window_rollover",
              "router::tests::unknown_tenant", "query::tests::limit_clamp", "replay::tests::resumes_offset"],
    "platforms": ["the staging cluster", "the eu-west cluster", "the us-east cluster", "a developer laptop",
                  "the load-test cluster"],
}

# ---------------------------------------------------------------------------------------
# fieldapp: Priya's mobile app for field technicians
FIELDAPP_FACTS = {
    "flutter": "The field app is Flutter 3.24 with Riverpod for state; BLoC was dropped in 2024.",
    "go": "The backend is Go 1.23 with chi for routing and sqlc for database queries.",
    "offline": "Work orders sync offline-first through a local SQLite database (drift) and a last-write-wins merge on updated_at.",
    "push": "Push notifications go through Firebase Cloud Messaging; the server key is in the secret fcm-server-key.",
    "maps": "Maps use Mapbox; the access token is restricted to the bundle ids com.fieldco.app and com.fieldco.app.beta.",
    "stores": "iOS builds ship through TestFlight every Wednesday; Android through the Play Console internal track, promoted to production after 3 days.",
    "codemagic": "Mobile CI/CD is Codemagic; the workflow file is codemagic.yaml at the repo root.",
    "min-os": "Minimum supported versions are iOS 15 and Android 8 (API 26).",
    "crashlytics": "Crashes are collected by Firebase Crashlytics; crash-free users must stay above 99.5%.",
    "photos": "Technicians attach photos; images are compressed to at most 1600 px and 80% JPEG quality before upload to GCS.",
    "incident-sync": "Incident 2025-05-09: a bad migration in drift schema version 12 wiped unsynced work orders on Android; since then every schema bump needs a migration test in test/drift/.",
    "hannah": "Hannah Brooks is the product designer; the Figma files are in the FieldCo Mobile project.",
    "omar": "Omar Haddad is the product manager and decides the release scope at sprint planning on Mondays.",
    "a11y": "Text must scale to 200% without clipping; the minimum touch target is 48 by 48 dp.",
    "l10n": "The app is localized to English, Spanish and Portuguese with ARB files in lib/l10n/.",
    "login": "Technicians log in with their company email and a one-time code; tokens are stored in flutter_secure_storage.",
    "api-versions": "The mobile API is versioned in the path (/v1, /v2); old versions stay up for 6 months after a new app version ships, because technicians update slowly.",
    "go-errors": "Go errors are wrapped with fmt.Errorf and %w; never use pkg/errors.",
    "golangci": "Go code must pass golangci-lint with the config in .golangci.yml, including errcheck and gosec.",
    "cloudsql": "The backend database is Cloud SQL for PostgreSQL 15; migrations run with goose at deploy time.",
    "cloudrun": "The backend deploys to Cloud Run in europe-west1 via GitHub Actions on a tag push.",
    "location": "Location tracking runs only while a job is active, at most every 60 seconds, to save battery.",
    "remote-config": "Firebase Remote Config drives feature flags in the app; default values are bundled in assets/remote_config_defaults.json.",
    "priya-tests": "Priya prefers widget tests over golden tests because goldens break on every font update.",
    "goldens": "Golden tests run only on the macOS runner because of font rendering differences.",
    "owners": "Changes to lib/sync/ need a review from Priya or Wei Zhang.",
    "wei": "Wei Zhang owns the Go backend and the on-call rotation for the API.",
    "beta": "About 40 technicians at the Lisbon branch are beta testers on the com.fieldco.app.beta build.",
    "signature": "Customer signatures are captured as SVG paths and stored with the work order, never as raster images.",
    "scanner": "Parts are scanned with mobile_scanner; QR and Code 128 barcodes are supported.",
    "apple-reject": "Apple rejected build 2.8.0 on 2025-10-02 for a missing reason string for background location; fixed in Info.plist with NSLocationAlwaysAndWhenInUseUsageDescription.",
    "semver": "App versions follow semver with the date as build number (2.9.0+20251104).",
    "cold-start": "Cold start must be under 2 seconds on a Samsung Galaxy A14, measured with integration_test and the performance overlay.",
    "pagination": "The work order list is paginated with cursors, 50 per page; infinite scroll loads the next page 10 items before the end.",
    "dark": "The app follows the system dark mode setting; technicians asked for it for night shifts.",
    "sprints": "Sprints are two weeks, starting on Mondays; the demo is on the last Friday.",
    "site-tz": "Appointment times are shown in the customer's site time zone, not the phone's.",
    "invoices": "Invoices are generated by the backend as PDF with gofpdf; the app only displays them.",
    "upload-outage": "On 2025-08-12 photo uploads failed for 3 hours because the GCS signed URL expired after 5 minutes and slow networks needed longer; it is now 30 minutes.",
    "onboarding": "New engineers start with the good-first-issue label and pair with Wei on their first backend change.",
    "fvm": "Flutter is pinned with FVM; run fvm use to get the right version.",
    "codegen": "JSON models are generated with freezed and json_serializable; run dart run build_runner build after changing them.",
    "consent": "Screen views are logged with Firebase Analytics, but only after the user accepts the consent dialog.",
    "tablets": "Tablets are supported in landscape only, for the dispatcher screen.",
    # near misses
    "react-native": "React Native was prototyped in 2023 and abandoned because of its offline storage story.",
    "google-maps": "Google Maps was used until 2024 and replaced because of pricing.",
    "php": "The old PHP backend at api-legacy.fieldco.com was retired in June 2024.",
}

FIELDAPP_QUESTIONS = [
    ("words", "codemagic.yaml", ["codemagic"]),
    ("words", "NSLocationAlwaysAndWhenInUseUsageDescription", ["apple-reject"]),
    ("words", "flutter_secure_storage", ["login"]),
    ("words", "golangci-lint config", ["golangci"]),
    ("words", "remote_config_defaults.json", ["remote-config"]),
    ("words", "build_runner freezed", ["codegen"]),
    ("words", "com.fieldco.app.beta testers", ["beta"]),
    ("words", "fvm use", ["fvm"]),
    ("paraphrase", "Which state management approach does the mobile app use?", ["flutter"]),
    ("paraphrase", "What routing library and query tool does the server use?", ["go"]),
    ("paraphrase", "How does the app handle edits made without connectivity?", ["offline"]),
    ("paraphrase", "How are notifications delivered to phones?", ["push"]),
    ("paraphrase", "Which mapping provider do we use?", ["maps"]),
    ("paraphrase", "When do new iPhone builds go out to testers?", ["stores"]),
    ("paraphrase", "What is the oldest phone OS we still support?", ["min-os"]),
    ("paraphrase", "What stability level must the app keep?", ["crashlytics"]),
    ("paraphrase", "How big can attached pictures get?", ["photos"]),
    ("paraphrase", "What went wrong when Android users lost jobs they hadn't uploaded?", ["incident-sync"]),
    ("paraphrase", "Who makes the screen designs?", ["hannah"]),
    ("paraphrase", "Who decides what goes into each release?", ["omar"]),
    ("paraphrase", "Which languages is the interface translated into?", ["l10n"]),
    ("paraphrase", "How long do we keep older endpoints running?", ["api-versions"]),
    ("paraphrase", "Where does the server's relational data live and how is the schema changed?", ["cloudsql"]),
    ("paraphrase", "How often do we record the technician's position?", ["location"]),
    ("paraphrase", "Who is on call for the server side?", ["wei"]),
    ("paraphrase", "How are customer autographs stored?", ["signature"]),
    ("paraphrase", "Which codes can the scanner read?", ["scanner"]),
    ("paraphrase", "How are release numbers formed?", ["semver"]),
    ("paraphrase", "How quickly must the app open?", ["cold-start"]),
    ("paraphrase", "Whose clock do appointment times use?", ["site-tz"]),
    ("paraphrase", "Why did picture uploads break for a few hours in August?", ["upload-outage"]),
    ("chatty", "I'm fixing a bug in the sync code, who needs to look at my pull request before it can be merged?", ["owners"]),
    ("chatty", "should I write golden tests or widget tests for the new screen, what does Priya usually prefer and why?", ["priya-tests"]),
    ("chatty", "I'm new on the team and want to pick something to start with, what do new people usually do first here?", ["onboarding"]),
    ("chatty", "how do we wrap errors in the Go code, is it okay to pull in pkg/errors for stack traces?", ["go-errors"]),
    ("chatty", "the customer wants an invoice, does the app create the PDF itself or does something else do it?", ["invoices"]),
    ("chatty", "how long is a sprint and when do we do the demo at the end of it?", ["sprints"]),
    ("chatty", "does the app follow the phone's dark mode setting or is there a switch somewhere, technicians were asking?", ["dark"]),
    ("chatty", "is the dispatcher screen supposed to work in portrait on tablets, I'm seeing layout issues there?", ["tablets"]),
    ("chatty", "how does the backend actually get deployed when we want to ship a change, is it automatic?", ["cloudrun"]),
    ("chatty", "can we track which screens people open, and is there anything we need to check with the user first?", ["consent"]),
    ("chatty", "how should large text settings and button sizes be handled for accessibility in the app?", ["a11y"]),
    ("chatty", "how many work orders does the list load at once and when does it fetch more?", ["pagination"]),
]

FIELDAPP_VOCAB = {
    "components": ["work order list", "job detail screen", "photo capture", "signature pad", "sync engine",
                   "login flow", "map view", "parts scanner", "dispatcher screen", "settings screen",
                   "jobs API", "notifications service", "invoice service", "technician profile", "offline queue"],
    "people": ["Priya", "Wei", "Hannah", "Omar", "Lucas", "Ana", "Kofi", "Elif", "Mateus", "Grace"],
    "libs": [("riverpod", "2.6"), ("drift", "2.22"), ("dio", "5.7"), ("go_router", "14.6"), ("freezed", "2.5"),
             ("mobile_scanner", "6.0"), ("mapbox_maps_flutter", "2.4"), ("firebase_messaging", "15.1"),
             ("chi", "5.2"), ("sqlc", "1.27"), ("goose", "3.24"), ("pgx", "5.7")],
    "key": "FLD",
    "paths": ["lib/sync/engine.dart", "lib/features/jobs/job_detail_page.dart", "lib/features/photos/capture.dart",
              "lib/app/router.dart", "internal/jobs/handler.go", "internal/invoices/pdf.go",
              "cmd/api/main.go", "lib/features/scanner/scan_page.dart"],
    "envs": ["SYNC_INTERVAL_SECONDS", "PHOTO_MAX_PX", "JOBS_PAGE_SIZE", "API_TIMEOUT_MS", "PUSH_BATCH_SIZE",
             "INVOICE_FONT", "MAP_STYLE_URL", "OFFLINE_QUEUE_LIMIT"],
    "tests": ["sync_engine_test.dart: merges remote edits", "job_detail_test.dart: shows parts",
              "capture_test.dart: rotates exif", "handler_test.go: TestListJobsPaging",
              "pdf_test.go: TestInvoiceTotals", "router_test.dart: deep link to job"],
    "platforms": ["a Pixel 6", "an iPhone SE", "a Samsung Galaxy A14", "an iPad in landscape", "Android 8 devices"],
}

# ---------------------------------------------------------------------------------------
# Filler: ordinary project chatter that answers none of the questions.

CHANGES = ["extract a hook for the loading state", "remove a dead feature flag", "add retries with jitter",
           "switch the logger to structured fields", "split the module into two files", "cache the config lookup",
           "rename confusing variables", "tighten input validation", "drop an unused dependency",
           "add metrics for the slow path", "move constants into one file", "fix an off-by-one in paging",
           "log the request id", "replace a hand-written parser", "handle the empty case explicitly",
           "make the timeout configurable", "add a regression test", "simplify error mapping"]
SYMPTOMS = ["returns a 500", "times out", "shows stale data", "renders twice", "leaks memory slowly",
            "drops the last item", "logs a warning on every call", "spikes CPU", "hangs on shutdown",
            "double-counts totals", "shows the wrong locale", "ignores the retry setting"]
CONDITIONS = ["the list is empty", "the user switches accounts", "the network is flaky", "two requests race",
              "the cache is cold", "a field is null", "the payload is large", "the clock changes to daylight saving",
              "the process restarts mid-batch", "a tenant has no config", "the token expires", "input has emoji"]
STATUSES = ["open", "in progress", "fixed, waiting for release", "won't fix", "needs repro", "blocked on upstream"]
ACTIONS = ["write an ADR", "add a feature flag first", "measure before optimizing", "document the fallback",
           "deprecate the old endpoint", "add an alert", "pair on the refactor", "split the ticket",
           "move the job to off-peak hours", "add a canary stage", "collect more logs", "ask security for review",
           "timebox the spike to two days", "keep the old path for one release", "write a migration guide"]
CAUSES = ["a shared fixture", "timing in the CI runner", "test order dependence", "a real network call",
          "an unpinned dependency", "a random seed", "a leaked global", "daylight saving time"]
LIMITATIONS = ["it cannot handle more than 10k items at once", "it has no pagination yet",
               "it does not support partial updates", "it reads the whole file into memory",
               "errors are only logged, not surfaced", "it is single-threaded", "its cache never expires",
               "it assumes one region"]
METRICS = [("p95 latency", "ms"), ("memory use", "MB"), ("build time", "s"), ("bundle size", "KB"),
           ("error rate", "%"), ("CPU per request", "ms")]
TOPICS = ["the new caching layer", "our testing strategy", "observability basics", "the incident review process",
          "dependency upgrades", "the release checklist", "profiling tips", "error budgets"]
EVENTS = ["engineering all-hands", "lunch and learn", "guild meeting", "quarterly review", "onboarding session"]
OBSERVATIONS = ["is easier to read after the split", "needs better names for its types",
                "could share code with the admin tools", "does too much in one function",
                "has a hidden dependency on the clock", "would benefit from property tests",
                "keeps state it does not need", "mixes IO and logic"]
GOOD = ["the release went smoothly", "reviews were fast", "the on-call week was quiet", "the demo landed well",
        "we closed most bugs", "pairing helped new people"]
IMPROVE = ["write tickets with acceptance criteria", "start load tests earlier", "timebox investigations",
           "update the docs with the change", "agree on owners up front", "cut scope sooner"]
LEVELS = ["debug", "info", "trace"]
SETTINGS = ["timeout", "batch size", "retry count", "page size", "cache lifetime", "concurrency"]
RENAMES = [("data", "payload"), ("handle", "process_event"), ("mgr", "manager"), ("tmp", "draft"),
           ("util", "formatting"), ("doStuff", "syncPending"), ("info", "summary"), ("obj", "record")]

TEMPLATES = [
    "PR #{n} in the {component}: {change}. Reviewed by {person}.",
    "Ticket {key}-{n}: the {component} {symptom} when {condition}. Status: {status}.",
    "{person} is working on the {component} this sprint: {change}.",
    "The {component} depends on {lib} {ver}; the upgrade is tracked in {key}-{n}.",
    "Meeting on {date}: agreed that for the {component} we {action}.",
    "The {component} logs are noisy at {level} level; filter on its module when debugging.",
    "{env} sets the {setting} of the {component} (default {value}).",
    "Flaky test {test}: fails in about {pct}% of CI runs, suspected cause: {cause}.",
    "{person} asked to rename {old} to {new} in {path} for clarity.",
    "TODO({person}): {action} for the {component} before {date}.",
    "Known limitation of the {component}: {limitation}.",
    "Benchmark on {date}: {metric} of the {component} went from {a} {unit} to {b} {unit} after we {change_past}.",
    "{person} will present {topic} at the {event} on {date}.",
    "Spike ({date}): {lib} looks promising for the {component}, but we would need to {action}.",
    "{path} holds the main logic of the {component}.",
    "Pairing notes with {person}: the {component} {observation}.",
    "Retro {date}: {good}; next time we should {improve}.",
    "{person} reported that the {component} {symptom} on {platform}.",
    "Bug {key}-{n} is a duplicate of {key}-{m}: both are the {component} that {symptom}.",
    "{person} reviewed the {component} design doc on {date} and asked us to {action}.",
]


def _date(rng: random.Random) -> str:
    return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _filler(rng: random.Random, vocab: dict) -> str:
    lib, ver = rng.choice(vocab["libs"])
    old, new = rng.choice(RENAMES)
    metric, unit = rng.choice(METRICS)
    a = rng.randint(20, 900)
    change = rng.choice(CHANGES)
    return rng.choice(TEMPLATES).format(
        n=rng.randint(100, 2999), m=rng.randint(100, 2999), key=vocab["key"],
        component=rng.choice(vocab["components"]), person=rng.choice(vocab["people"]),
        change=change, change_past=_past(change), symptom=rng.choice(SYMPTOMS),
        condition=rng.choice(CONDITIONS), status=rng.choice(STATUSES), lib=lib, ver=ver,
        date=_date(rng), action=rng.choice(ACTIONS), level=rng.choice(LEVELS),
        env=rng.choice(vocab["envs"]), setting=rng.choice(SETTINGS), value=rng.choice([5, 10, 30, 50, 100, 500]),
        test=rng.choice(vocab["tests"]), pct=rng.choice([2, 5, 10, 20]), cause=rng.choice(CAUSES),
        old=old, new=new, path=rng.choice(vocab["paths"]), limitation=rng.choice(LIMITATIONS),
        metric=metric, unit=unit, a=a, b=max(1, int(a * rng.uniform(0.4, 0.9))), topic=rng.choice(TOPICS),
        event=rng.choice(EVENTS), observation=rng.choice(OBSERVATIONS), good=rng.choice(GOOD),
        improve=rng.choice(IMPROVE), platform=rng.choice(vocab["platforms"]),
    )


def _past(change: str) -> str:
    verb, _, rest = change.partition(" ")
    past = {"add": "added", "drop": "dropped", "fix": "fixed", "log": "logged", "make": "made",
            "split": "split", "switch": "switched", "tighten": "tightened", "cache": "cached",
            "remove": "removed", "rename": "renamed", "move": "moved", "replace": "replaced",
            "handle": "handled", "extract": "extracted", "simplify": "simplified"}[verb]
    return f"{past} {rest}"


SCOPES = [
    ("maria", "storefront", STOREFRONT_FACTS, STOREFRONT_QUESTIONS, STOREFRONT_VOCAB),
    ("kenji", "ingest", INGEST_FACTS, INGEST_QUESTIONS, INGEST_VOCAB),
    ("priya", "fieldapp", FIELDAPP_FACTS, FIELDAPP_QUESTIONS, FIELDAPP_VOCAB),
]


def split_of(question: str) -> str:
    """dev or held-out, by a hash of the question's text (about half each)."""
    return "dev" if hashlib.sha256(question.encode()).digest()[0] % 2 == 0 else "held-out"


def build() -> dict:
    """The scopes with their memories (key, content) in insertion order, and the questions."""
    scopes, questions = [], []
    for user, project, facts, asked, vocab in SCOPES:
        rng = random.Random(f"search-set:{project}")
        memories = [(f"{project}:{key}", text) for key, text in facts.items()]
        seen = {text for _, text in memories}
        while len(memories) < MEMORIES_PER_SCOPE:
            text = _filler(rng, vocab)
            if text not in seen:
                seen.add(text)
                memories.append((f"{project}:filler-{len(memories)}", text))
        # Evidence is spread through time like everything else, not all added first.
        rng.shuffle(memories)
        scopes.append({"user": user, "project": project, "memories": memories})
        for kind, question, evidence in asked:
            for key in evidence:
                assert key in facts, f"{project}: unknown evidence {key}"
            questions.append({"user": user, "project": project, "kind": kind, "question": question,
                              "split": split_of(question), "evidence": [f"{project}:{k}" for k in evidence]})
    return {"scopes": scopes, "questions": questions}


def main() -> None:
    data = build()
    if sys.argv[1:] == ["--jsonl"]:
        for scope in data["scopes"]:
            for key, content in scope["memories"]:
                print(json.dumps({"memory": key, "user": scope["user"], "project": scope["project"],
                                  "content": content}))
        for q in data["questions"]:
            print(json.dumps(q))
        return
    for scope in data["scopes"]:
        print(f"{scope['user']}/{scope['project']}: {len(scope['memories'])} memories")
    qs = data["questions"]
    for split in ("dev", "held-out"):
        part = [q for q in qs if q["split"] == split]
        kinds = {k: sum(q["kind"] == k for q in part) for k in ("words", "paraphrase", "chatty")}
        print(f"{split}: {len(part)} questions {kinds}")


if __name__ == "__main__":
    main()
