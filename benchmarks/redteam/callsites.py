"""Harder leaks: credentials passed to a call, positionally or under names that do not say
"secret" (pwd, pass, auth, key), keyword DSNs, tool config files, and hard non-leaks that sit in
exactly those places (reading the value from somewhere else)."""

# ruff: noqa: E501  # one snippet per line: the templates read as the files they imitate

from __future__ import annotations

import base64
import json
import random

from .fake import ALNUM, HEX, Fake
from .model import Snippet


def leaks(fake: Fake, rng: random.Random, rounds: int) -> list[Snippet]:
    out: list[Snippet] = []

    def add(style: str, kind: str, filename: str, text: str, secret: str, also: tuple[str, ...] = ()) -> None:
        out.append(Snippet(f"{style}-{len(out):03d}/{filename}", text, style, kind, secret, also))

    for _ in range(rounds):
        user = rng.choice(["admin", "root", "deploy", "sa", "app_user"])
        pw = fake.password()
        host = rng.choice(["db.prod.internal", "10.1.2.3", "mysql.acme.io"])
        add(
            "py-connect-kwarg",
            "password",
            "db.py",
            f"import pymysql\n\nconn = pymysql.connect(host='{host}', user='{user}', password='{pw}', db='shop')\n",
            pw,
        )
        add(
            "py-libpq-dsn",
            "password",
            "etl.py",
            f'import psycopg2\n\nconn = psycopg2.connect("host={host} dbname=warehouse user={user} password={pw}")\n',
            pw,
        )
        add(
            "sqlalchemy-url",
            "db-url",
            "models.py",
            f"engine = create_engine('mysql+pymysql://{user}:{pw}@{host}/shop')\n",
            pw,
        )
        add(
            "go-sql-dsn",
            "password",
            "store.go",
            f'db, err := sql.Open("mysql", "{user}:{pw}@tcp({host}:3306)/orders?parseTime=true")\n',
            pw,
        )
        add(
            "go-redis-options",
            "password",
            "cache.go",
            f'rdb := redis.NewClient(&redis.Options{{\n\tAddr:     "{host}:6379",\n\tPassword: "{pw}",\n\tDB:       0,\n}})\n',
            pw,
        )
        add(
            "php-pdo",
            "password",
            "db.php",
            f"<?php\n$pdo = new PDO('mysql:host={host};dbname=shop', '{user}', '{pw}');\n",
            pw,
        )
        add(
            "php-mysqli",
            "password",
            "connect.php",
            f'<?php\n$link = mysqli_connect("{host}", "{user}", "{pw}", "shop");\n',
            pw,
        )
        add(
            "java-setter",
            "password",
            "DataSourceConfig.java",
            f'HikariConfig config = new HikariConfig();\nconfig.setJdbcUrl("jdbc:postgresql://{host}/app");\nconfig.setUsername("{user}");\nconfig.setPassword("{pw}");\n',
            pw,
        )
        add(
            "java-props-put",
            "password",
            "Mailer.java",
            f'Properties props = new Properties();\nprops.put("mail.smtp.user", "{user}");\nprops.put("mail.smtp.password", "{pw}");\n',
            pw,
        )
        add(
            "java-getconnection",
            "password",
            "Dao.java",
            f'Connection c = DriverManager.getConnection("jdbc:mysql://{host}:3306/shop", "{user}", "{pw}");\n',
            pw,
        )
        add(
            "csharp-networkcredential",
            "password",
            "Mail.cs",
            f'var client = new SmtpClient("smtp.acme.io") {{ Credentials = new NetworkCredential("{user}@acme.io", "{pw}") }};\n',
            pw,
        )
        add(
            "powershell-securestring",
            "password",
            "deploy.ps1",
            f'$secpass = ConvertTo-SecureString "{pw}" -AsPlainText -Force\n$cred = New-Object System.Management.Automation.PSCredential ("{user}", $secpass)\n',
            pw,
        )
        add(
            "requests-auth-tuple",
            "password",
            "sync.py",
            f'resp = requests.get("https://jira.acme.io/rest/api/2/search", auth=("{user}", "{pw}"))\n',
            pw,
        )
        add(
            "curl-user",
            "password",
            "check.sh",
            f"curl -u {user}:{pw} https://nexus.acme.io/service/rest/v1/status\n",
            pw,
        )
        add(
            "pgpassword-env", "password", "restore.sh", f"PGPASSWORD={pw} psql -h {host} -U {user} app < dump.sql\n", pw
        )
        add("sshpass", "password", "push.sh", f"sshpass -p '{pw}' scp build.tar.gz {user}@{host}:/opt/app/\n", pw)
        add("docker-login", "password", "release.sh", f"docker login -u {user} -p {pw} registry.acme.io\n", pw)
        add(
            "maven-settings",
            "password",
            "settings.xml",
            f"<settings>\n  <servers>\n    <server>\n      <id>nexus</id>\n      <username>{user}</username>\n      <password>{pw}</password>\n    </server>\n  </servers>\n</settings>\n",
            pw,
        )
        add(
            "gradle-properties",
            "password",
            "gradle.properties",
            f"org.gradle.jvmargs=-Xmx2g\nossrhUsername={user}\nossrhPassword={pw}\n",
            pw,
        )
        add(
            "nuget-config",
            "password",
            "NuGet.Config",
            f'<configuration>\n  <packageSourceCredentials>\n    <acme>\n      <add key="Username" value="{user}" />\n      <add key="ClearTextPassword" value="{pw}" />\n    </acme>\n  </packageSourceCredentials>\n</configuration>\n',
            pw,
        )
        gh = fake.github("gho_")
        add(
            "composer-auth",
            "github-oauth",
            "auth.json",
            json.dumps({"github-oauth": {"github.com": gh}}, indent=4) + "\n",
            gh,
        )
        gl = fake.gitlab()
        add("git-credentials", "gitlab-pat", ".git-credentials", f"https://oauth2:{gl}@gitlab.com\n", gl)
        s3, s3_id = fake.aws_secret(), fake.aws_akid()
        add(
            "s3cfg",
            "aws-secret",
            ".s3cfg",
            f"[default]\naccess_key = {s3_id}\nsecret_key = {s3}\nhost_base = s3.amazonaws.com\n",
            s3,
            (s3_id,),
        )
        kube_tok = fake.jwt()
        add("kubeconfig-token", "jwt", "kubeconfig", f"users:\n- name: ci\n  user:\n    token: {kube_tok}\n", kube_tok)
        kd = base64.b64encode(fake.pem("RSA PRIVATE KEY").encode()).decode()
        add(
            "kubeconfig-keydata",
            "private-key-b64",
            "config",
            f"users:\n- name: admin\n  user:\n    client-certificate-data: {base64.b64encode(b'-----BEGIN CERTIFICATE-----' + rng.randbytes(60)).decode()}\n    client-key-data: {kd}\n",
            kd,
        )
        salt = fake.s(ALNUM + "!@#$%^&*()-_[]{}<>~`+=,.;:/?|", 64)
        add("wp-salts", "wp-salt", "wp-config.php", f"<?php\ndefine('AUTH_KEY',         '{salt}');\n", salt)
        gocspx = "GOCSPX-" + fake.s(ALNUM + "-_", 28)
        add(
            "google-client-secret",
            "google-oauth",
            "client_secret.json",
            json.dumps(
                {
                    "installed": {
                        "client_id": f"{fake.digits(12)}-{fake.s('abcdefghijklmnopqrstuvwxyz0123456789', 32)}.apps.googleusercontent.com",
                        "client_secret": gocspx,
                        "redirect_uris": ["http://localhost"],
                    }
                }
            )
            + "\n",
            gocspx,
        )
        ya29 = "ya29.a0" + fake.s(ALNUM + "-_", 150)
        add(
            "google-access-token",
            "google-oauth",
            "call_api.py",
            f'headers = {{"Authorization": "Bearer {ya29}"}}\n',
            ya29,
        )
        stripe = fake.stripe()
        add("stripe-assign", "stripe", "billing.rb", f"Stripe.api_key = '{stripe}'\n", stripe)
        sg = fake.sendgrid()
        add("positional-client", "sendgrid", "mail.py", f"sg = SendGridAPIClient('{sg}')\n", sg)
        tw = fake.hex32()
        add("twilio-positional", "twilio-auth", "sms.py", f"client = Client('{fake.twilio_sid()}', '{tw}')\n", tw)
        xk = fake.s(ALNUM, 32)
        add(
            "header-x-api-key",
            "generic-api-key",
            "fetch.js",
            f"fetch(url, {{ headers: {{ 'X-API-Key': '{xk}' }} }});\n",
            xk,
        )
        pk = fake.s(ALNUM, 32)
        add(
            "json-key-field",
            "generic-api-key",
            "config.json",
            json.dumps({"service": {"url": "https://api.weather.io", "key": pk}}, indent=2) + "\n",
            pk,
        )
        pwd = fake.password("random")
        add("pwd-name", "password", "conn.ini", f"[database]\nserver={host}\nuid={user}\npwd={pwd}\n", pwd)
        smtp = fake.password()
        add(
            "django-email",
            "password",
            "settings.py",
            f"EMAIL_HOST = 'smtp.gmail.com'\nEMAIL_HOST_USER = 'noreply@acme.io'\nEMAIL_HOST_PASSWORD = '{smtp}'\n",
            smtp,
        )
        ldap = fake.password()
        add(
            "ldap-bind",
            "password",
            "ldap.yml",
            f"ldap:\n  url: ldaps://ldap.acme.io\n  bind_dn: cn=svc,dc=acme,dc=io\n  bind_password: {ldap}\n",
            ldap,
        )
        slack = fake.slack_bot()
        add("positional-slack", "slack-bot", "bot.js", f"const web = new WebClient('{slack}');\n", slack)
        boto_s = fake.aws_secret()
        boto_a = fake.aws_akid()
        add(
            "boto3-kwargs",
            "aws-secret",
            "upload.py",
            f"s3 = boto3.client(\n    's3',\n    aws_access_key_id='{boto_a}',\n    aws_secret_access_key='{boto_s}',\n)\n",
            boto_s,
            (boto_a,),
        )
        fcm = f"AAAA{fake.s(ALNUM + '-_', 7)}:APA91b{fake.s(ALNUM + '-_', 134)}"
        add("fcm-server-key", "fcm", "push.js", f"const serverKey = '{fcm}';\n", fcm)
        jenkins = fake.s(HEX, 34)
        add(
            "jenkins-api-token",
            "generic-api-key",
            "trigger.sh",
            f"curl -X POST https://ci.acme.io/job/deploy/build --user {user}:{jenkins}\n",
            jenkins,
        )
    return out


def clean(fake: Fake, rng: random.Random) -> list[Snippet]:
    items = [
        ("read-getpass/cli.py", "import getpass\npassword = getpass.getpass()\ntoken = input('Token: ')\n"),
        (
            "read-form/views.py",
            'password = request.form["password"]\napi_key = request.headers.get("X-API-Key")\nsecret = settings.SECRET_KEY\n',
        ),
        (
            "read-attr/client.py",
            "self.api_key = api_key\nself.password = config.password\ntoken = self._fetch_token()\nauth_token = response.json()['access_token']\n",
        ),
        (
            "none-values/defaults.py",
            'password = None\napi_key = ""\nsecret: str | None = None\nTOKEN = os.environ.get("TOKEN", "")\n',
        ),
        (
            "paths/settings.py",
            'SECRET_FILE = "/etc/app/secret.key"\nprivate_key_path = "~/.ssh/id_rsa"\nTOKEN_CACHE = ".cache/token.json"\npassword_file = "/run/secrets/db_password"\n',
        ),
        (
            "endpoints/oauth.py",
            'TOKEN_ENDPOINT = "https://oauth2.googleapis.com/token"\nAUTH_URL = "https://accounts.google.com/o/oauth2/auth"\nREVOKE_URL = "https://oauth2.googleapis.com/revoke"\n',
        ),
        (
            "random-secret/settings.py",
            "from django.core.management.utils import get_random_secret_key\nSECRET_KEY = get_random_secret_key()\n",
        ),
        ("jwt-encode/auth.py", "token = jwt.encode({'sub': user.id}, settings.SECRET_KEY, algorithm='HS256')\n"),
        (
            "django-hash/fixture.json",
            json.dumps(
                [
                    {
                        "model": "auth.user",
                        "pk": 1,
                        "fields": {
                            "username": "admin",
                            "password": f"pbkdf2_sha256$600000${fake.s(ALNUM, 22)}${base64.b64encode(rng.randbytes(32)).decode()}",
                        },
                    }
                ],
                indent=2,
            )
            + "\n",
        ),
        (
            "mysql-prompt/backup.sh",
            'mysqldump -u root -p shop > shop.sql\nmysql -u "$DB_USER" -p"$DB_PASS" shop < shop.sql\ndocker login -u "$REGISTRY_USER" --password-stdin < token.txt\n',
        ),
        (
            "go-env/main.go",
            'package main\n\nimport "os"\n\nvar dbPassword = os.Getenv("DB_PASSWORD")\nvar apiKey = os.Getenv("API_KEY")\n',
        ),
        (
            "cipher/tls.py",
            'CIPHER = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"\nKEY_ALGORITHM = "RSA-OAEP-256"\nsecret_algorithm = "AES256"\n',
        ),
        (
            "azurite/local.settings.json",
            json.dumps(
                {
                    "Values": {
                        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
                        "Emulator": "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
                    }
                },
                indent=2,
            )
            + "\n",
        ),
        (
            "gha-secrets/reusable.yml",
            "jobs:\n  call:\n    uses: acme/workflows/.github/workflows/deploy.yml@main\n    secrets: inherit\n    with:\n      environment: production\n",
        ),
        (
            "cache-key/cache.py",
            'KEY_PREFIX = "session:"\ncache_key = f"user:{user_id}:profile"\nSECRET_HEADER = "X-Hub-Signature-256"\n',
        ),
        (
            "lfs/model.bin",
            f"version https://git-lfs.github.com/spec/v1\noid sha256:{fake.s(HEX, 64)}\nsize 104857600\n",
        ),
        (
            "colors/theme.ts",
            "export const tokens = {\n  primary: '#1a73e8',\n  secondary: '#5f6368',\n  radius: '4px',\n};\n",
        ),
        (
            "test-vectors/test_hmac.py",
            f'def test_hmac_sha256():\n    key = bytes.fromhex("{fake.s(HEX, 64)}")\n    expected = "{fake.s(HEX, 64)}"\n    assert hmac.new(key, b"msg", "sha256").hexdigest() == expected\n',
        ),
        (
            "k8s-binary/configmap.yaml",
            f"apiVersion: v1\nkind: ConfigMap\nbinaryData:\n  logo.png: {base64.b64encode(b'PNG' + rng.randbytes(90)).decode()}\n",
        ),
        (
            "pw-compare/auth.go",
            'if req.Password == "" {\n\treturn errors.New("password is required")\n}\nif len(req.Token) != 40 {\n\treturn ErrBadToken\n}\n',
        ),
        (
            "ansible-vault/vars.yml",
            "db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  "
            + "\n  ".join(fake.s("0123456789abcdef", 80) for _ in range(4))
            + "\n",
        ),
        (
            "sops/secrets.enc.yaml",
            f"password: ENC[AES256_GCM,data:{fake.s(ALNUM, 16)},iv:{fake.s(ALNUM, 43)}=,tag:{fake.s(ALNUM, 22)}==,type:str]\nsops:\n  version: 3.8.1\n",
        ),
        (
            "sealed/sealed.yaml",
            f"kind: SealedSecret\nspec:\n  encryptedData:\n    password: AgB{fake.s(ALNUM + '+/', 300)}==\n",
        ),
        (
            "docs-shell/INSTALL.md",
            '```\nexport OPENAI_API_KEY=<your key>\ncurl -H "Authorization: Bearer $OPENAI_API_KEY" https://api.openai.com/v1/models\n```\n',
        ),
        (
            "pw-masked/app.log",
            "2024-05-02 INFO connecting to postgres://app:****@db:5432/app\n2024-05-02 INFO login user=admin password=[FILTERED]\n",
        ),
        (
            "gradle-ref/gradle.properties",
            "ossrhUsername=\nossrhPassword=\nsigning.keyId=24875D73\nsigning.secretKeyRingFile=/home/ci/.gnupg/secring.gpg\n",
        ),
        (
            "maven-ref/settings.xml",
            "<settings>\n  <servers>\n    <server>\n      <id>nexus</id>\n      <username>${env.NEXUS_USER}</username>\n      <password>${env.NEXUS_PASSWORD}</password>\n    </server>\n  </servers>\n</settings>\n",
        ),
        (
            "spring-ref/application.yml",
            "spring:\n  datasource:\n    url: jdbc:postgresql://${DB_HOST:localhost}:5432/app\n    username: ${DB_USER}\n    password: ${DB_PASSWORD}\n",
        ),
        (
            "php-ref/wp-config.php",
            "<?php\ndefine( 'DB_PASSWORD', getenv('WORDPRESS_DB_PASSWORD') );\ndefine( 'AUTH_KEY', 'put your unique phrase here' );\n",
        ),
        (
            "csharp-ref/Startup.cs",
            'var conn = Configuration.GetConnectionString("Default");\nvar key = Configuration["Api:Key"];\n',
        ),
    ]
    return [Snippet(f"hard-{path}", text, "hard-negative", "none") for path, text in items]
