"""Secret-free code and configuration written the way projects write it, per file type.

Python filler is real code (slices of standard-library modules, see `background.python_slice`);
for the other languages these hand-written blocks stand in, with names varied per use. Some of them
mention tokens and passwords the way real code does (reading them from the environment, passing
them on) so that a scanner that keys on words alone pays for it.
"""

from __future__ import annotations

import random

SERVICES = (
    "billing",
    "auth",
    "notifier",
    "search",
    "gateway",
    "inventory",
    "reports",
    "ml-pipeline",
    "checkout",
    "identity",
    "scheduler",
    "webhooks",
)

ENTITIES = ("invoice", "order", "customer", "shipment", "payment", "account", "report", "session")


def _entity(rng: random.Random) -> str:
    return rng.choice(ENTITIES)


def js(rng: random.Random) -> list[str]:
    e = _entity(rng)
    E = e.capitalize()
    return rng.choice(
        [
            [
                f"export async function fetch{E}s(client, {{ page = 1, limit = 50 }} = {{}}) {{",
                f"  const response = await client.get(`/api/v2/{e}s`, {{ params: {{ page, limit }} }});",
                "  if (response.status !== 200) {",
                f"    throw new Error(`could not list {e}s: ${{response.status}}`);",
                "  }",
                f"  return response.data.items.map((item) => new {E}(item));",
                "}",
            ],
            [
                f"function normalize{E}(raw) {{",
                "  return {",
                "    id: String(raw.id),",
                "    createdAt: new Date(raw.created_at),",
                "    total: Number(raw.total ?? 0),",
                "    tags: Array.isArray(raw.tags) ? raw.tags : [],",
                "  };",
                "}",
            ],
            [
                "const token = req.headers.authorization?.replace(/^Bearer /, '');",
                "if (!token) {",
                "  return res.status(401).json({ error: 'missing bearer token' });",
                "}",
                "const claims = await verifyToken(token, { audience: config.audience });",
            ],
            [
                "module.exports.retry = async function retry(fn, attempts = 3, delayMs = 250) {",
                "  let lastError;",
                "  for (let i = 0; i < attempts; i += 1) {",
                "    try { return await fn(); } catch (err) { lastError = err; }",
                "    await new Promise((resolve) => setTimeout(resolve, delayMs * 2 ** i));",
                "  }",
                "  throw lastError;",
                "};",
            ],
        ]
    )


def go(rng: random.Random) -> list[str]:
    e = _entity(rng)
    E = e.capitalize()
    return rng.choice(
        [
            [
                f"func (s *Server) handle{E}(w http.ResponseWriter, r *http.Request) {{",
                '\tid := chi.URLParam(r, "id")',
                f"\titem, err := s.store.Get{E}(r.Context(), id)",
                "\tif err != nil {",
                '\t\thttp.Error(w, "not found", http.StatusNotFound)',
                "\t\treturn",
                "\t}",
                '\tw.Header().Set("Content-Type", "application/json")',
                "\t_ = json.NewEncoder(w).Encode(item)",
                "}",
            ],
            [
                "func loadConfig() (*Config, error) {",
                "\tcfg := &Config{",
                '\t\tListenAddr: getenv("LISTEN_ADDR", ":8080"),',
                '\t\tToken:      os.Getenv("API_TOKEN"),',
                "\t}",
                '\tif cfg.Token == "" {',
                '\t\treturn nil, errors.New("API_TOKEN is not set")',
                "\t}",
                "\treturn cfg, nil",
                "}",
            ],
        ]
    )


def java(rng: random.Random) -> list[str]:
    E = _entity(rng).capitalize()
    return rng.choice(
        [
            [
                f"    public Optional<{E}> find{E}(long id) {{",
                f"        return repository.findById(id).map({E}Mapper::toDomain);",
                "    }",
            ],
            [
                f'    @GetMapping("/{E.lower()}s/{{id}}")',
                f"    public ResponseEntity<{E}Dto> get(@PathVariable long id) {{",
                f"        return service.find{E}(id)",
                "            .map(ResponseEntity::ok)",
                "            .orElse(ResponseEntity.notFound().build());",
                "    }",
            ],
        ]
    )


def ruby(rng: random.Random) -> list[str]:
    e = _entity(rng)
    return rng.choice(
        [
            [
                f"  def {e}_total({e})",
                f"    {e}.line_items.sum {{ |item| item.quantity * item.unit_price }}",
                "  end",
            ],
            [
                "  def authenticate!",
                "    token = request.headers['Authorization'].to_s.delete_prefix('Bearer ')",
                "    head :unauthorized unless ApiToken.active.exists?(digest: Digest::SHA256.hexdigest(token))",
                "  end",
            ],
        ]
    )


def yaml(rng: random.Random) -> list[str]:
    return rng.choice(
        [
            ["logging:", "  level: info", "  format: json", "  include_caller: false"],
            [
                "server:",
                f"  port: {rng.choice([8080, 8000, 3000, 9090])}",
                "  read_timeout: 30s",
                "  write_timeout: 30s",
            ],
            ["features:", "  new_checkout: true", "  legacy_export: false", f"  rollout_percent: {rng.randint(1, 99)}"],
            ["retry:", "  attempts: 5", "  backoff: exponential", "  max_delay: 10s"],
        ]
    )


def shell(rng: random.Random) -> list[str]:
    return rng.choice(
        [
            ['if [ -z "${DEPLOY_ENV:-}" ]; then', '  echo "DEPLOY_ENV must be set" >&2', "  exit 1", "fi"],
            ["for service in api worker scheduler; do", '  docker compose up -d "$service"', "done"],
            ['log() { printf "[%s] %s\\n" "$(date -u +%FT%TZ)" "$*"; }', 'log "starting migration"'],
        ]
    )


def terraform(rng: random.Random) -> list[str]:
    return rng.choice(
        [
            [
                'resource "aws_s3_bucket" "artifacts" {',
                f'  bucket = "acme-artifacts-{rng.randint(100, 999)}"',
                "  tags = {",
                '    team = "platform"',
                "  }",
                "}",
            ],
            [
                'module "vpc" {',
                '  source  = "terraform-aws-modules/vpc/aws"',
                '  version = "5.8.1"',
                '  cidr    = "10.20.0.0/16"',
                "}",
            ],
            ['variable "region" {', "  type    = string", '  default = "eu-west-1"', "}"],
        ]
    )


def markdown(rng: random.Random) -> list[str]:
    return rng.choice(
        [
            [
                "## Running locally",
                "",
                "Install the dependencies and start the development server:",
                "",
                "```bash",
                "make install",
                "make dev",
                "```",
                "",
            ],
            [
                "## Configuration",
                "",
                "Settings are read from the environment. Never commit real credentials;",
                "ask the platform team for access to the secrets manager.",
                "",
            ],
            [
                "### Troubleshooting",
                "",
                "If the service cannot reach the database, check the VPN and run",
                "`make doctor`.",
                "",
            ],
        ]
    )


def log(rng: random.Random) -> list[str]:
    clock = f"{rng.randint(10, 23)}:{rng.randint(10, 59)}:{rng.randint(10, 59)}"
    ts = f"2024-0{rng.randint(1, 9)}-{rng.randint(10, 28)}T{clock}Z"
    return [
        f"{ts} INFO  http  GET /healthz 200 {rng.randint(1, 9)}ms",
        f"{ts} INFO  worker  processed batch size={rng.randint(10, 500)} lag_ms={rng.randint(0, 900)}",
        f"{ts} WARN  db  slow query duration_ms={rng.randint(500, 5000)} table=orders",
    ]


def xml(rng: random.Random) -> list[str]:
    return rng.choice(
        [
            ['    <add key="CacheDurationMinutes" value="15" />', '    <add key="EnableTelemetry" value="true" />'],
            [
                "    <dependency>",
                "      <groupId>org.slf4j</groupId>",
                "      <artifactId>slf4j-api</artifactId>",
                "      <version>2.0.13</version>",
                "    </dependency>",
            ],
        ]
    )


def properties(rng: random.Random) -> list[str]:
    return rng.choice(
        [
            ["server.port=8080", "spring.jpa.hibernate.ddl-auto=validate", "logging.level.root=INFO"],
            ["management.endpoints.web.exposure.include=health,info", "spring.application.name=orders"],
        ]
    )
