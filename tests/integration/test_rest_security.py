"""HTTPS and HTTP Basic authentication on the REST servers around the log, configured as their upstreams document
it, driven by curl, httpx and the services' own clients:

- two schema registries (the primary with a PEM key store, a follower with a PKCS12 one, inter.instance.protocol
  https), authentication.method=BASIC with Jetty's PropertyFileLoginModule from SCHEMA_REGISTRY_OPTS;
- a ksqlDB server on https with Basic auth from KSQL_OPTS, whose own registry client logs in over https;
- a Connect worker on https with Kafka's BasicAuthSecurityRestExtension (KAFKA_OPTS), running the AvroConverter
  against the registry with basic.auth.credentials.source=USER_INFO and schema.registry.ssl.truststore.*.
One broker and one set of processes serve the whole module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import module_broker
from connect.connect_helpers import ConnectProcess, worker_props
from registry.registry_helpers import RegistryProcess, tool, wait_for
from security_helpers import make_pki
from sql.sql_helpers import KsqlProcess

from brook import rest_auth, rest_tls
from brook.config.definition import ConfigError

ROLES = "admin: admin-secret,admin\nalice: OBF:1v2j1uum1xtv1zej1zer1xtn1uvk1v1v,developer\nguest: guest-secret,guest\n"
ADMIN, ALICE, GUEST = ("admin", "admin-secret"), ("alice", "password"), ("guest", "guest-secret")
CURL = "curl"


def jaas(path: Path, realm: str, module: str, users: Path) -> dict[str, str]:
    path.write_text(f'{realm} {{\n  {module} required\n  file="{users}"\n  debug="false";\n}};\n')
    return {"SCHEMA_REGISTRY_OPTS" if realm.startswith("Schema") else "KSQL_OPTS" if realm.startswith("Ksql")
            else "KAFKA_OPTS": f"-Djava.security.auth.login.config={path}"}


def pkcs12(pki, path: Path, password: str) -> Path:
    """The server's key and certificate as a PKCS12 key store (keytool's other common output)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12 as p12

    data = pki.server.read_bytes()
    key = serialization.load_pem_private_key(data, None)
    certs = x509.load_pem_x509_certificates(data)
    path.write_bytes(p12.serialize_key_and_certificates(b"server", key, certs[0], certs[1:],  # type: ignore[arg-type]
                                                        serialization.BestAvailableEncryption(password.encode())))
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    d = tmp_path_factory.mktemp("restsec")
    pki = make_pki(d)
    users = d / "users.properties"
    users.write_text(ROLES)
    connect_users = d / "connect.password"
    connect_users.write_text("admin: admin-secret\n")
    tls = {"ssl.keystore.location": str(pki.server), "ssl.keystore.type": "PEM",
           "ssl.truststore.location": str(pki.ca), "ssl.truststore.type": "PEM"}
    basic = {"authentication.method": "BASIC", "authentication.roles": "admin,developer"}
    with module_broker(tmp_path_factory, "restsec-broker") as broker:
        sr_env = jaas(d / "sr.jaas", "SchemaRegistry-Props", rest_auth.JETTY_MODULES[0], users)
        sr_common = {"listeners": "https://127.0.0.1:0", "inter.instance.protocol": "https", "host.name": "127.0.0.1",
                     "authentication.realm": "SchemaRegistry-Props", **basic}
        primary = RegistryProcess(d / "primary.log", broker.bootstrap, {**sr_common, **tls})
        primary.env = sr_env
        store = pkcs12(pki, d / "server.p12", "store-secret")
        follower = RegistryProcess(d / "follower.log", broker.bootstrap, {
            **sr_common, "leader.eligibility": "false", "ssl.keystore.location": str(store),
            "ssl.keystore.type": "PKCS12", "ssl.keystore.password": "store-secret",
            "ssl.truststore.location": str(pki.ca)})
        follower.env = sr_env
        ksql = KsqlProcess(d / "ksql.log", broker.bootstrap, {
            "listeners": "https://127.0.0.1:0", **tls, "authentication.realm": "KsqlServer-Props", **basic,
            "ksql.schema.registry.url": "", "ksql.schema.registry.basic.auth.credentials.source": "USER_INFO",
            "ksql.schema.registry.basic.auth.user.info": ":".join(ALICE),
            "ksql.schema.registry.ssl.truststore.location": str(pki.ca)})
        ksql.env = jaas(d / "ksql.jaas", "KsqlServer-Props", rest_auth.JETTY_MODULES[0], users)
        connect_dir = d / "connect"
        connect_dir.mkdir()
        props = worker_props(connect_dir / "worker.properties", broker.bootstrap, connect_dir / "offsets",
                             **{"listeners": "https://127.0.0.1:0", "offset.flush.interval.ms": "500",
                                "rest.extension.classes": rest_auth.CONNECT_EXTENSION,
                                **{f"listeners.https.{k}": v for k, v in tls.items()}})
        worker = ConnectProcess(connect_dir, str(props), env=jaas(d / "connect.jaas", "KafkaConnect",
                                                                  rest_auth.CONNECT_MODULE, connect_users))
        started: list = []
        try:
            for p in (primary, follower):
                started.append(p.start())
            ksql.overrides["ksql.schema.registry.url"] = primary.url
            started.append(ksql.start())
            started.append(worker.start())
            yield pki, d, primary, follower, ksql, worker
        finally:
            for p in reversed(started):
                p.stop()


def curl(pki, *args: str) -> tuple[int, dict[str, str], str]:
    """curl as a user runs it: (HTTP status, response headers, body); status 0 when no HTTP answer came."""
    done = subprocess.run([CURL, "-sS", "-D", "-", "--cacert", str(pki.ca), "--max-time", "20", *args],
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        return 0, {}, done.stderr
    head, _, body = done.stdout.partition("\n\n")  # text mode: curl's CRLFs read as newlines
    lines = head.split("\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


# -- the schema registry -----------------------------------------------------------------------------------------
def test_registry_https_and_basic_auth_with_curl(stack):
    pki, _, primary, _, _, _ = stack
    assert primary.url.startswith("https://")
    status, _, body = curl(pki, "-u", "admin:admin-secret", primary.url + "/subjects")
    assert status == 200 and isinstance(json.loads(body), list)
    status, headers, body = curl(pki, "-u", "admin:wrong", primary.url + "/subjects")
    assert status == 401
    assert headers["www-authenticate"] == 'Basic realm="SchemaRegistry-Props"'
    assert json.loads(body) == {"error_code": 401, "message": "Unauthorized"}
    status, headers, body = curl(pki, primary.url + "/subjects")  # no credentials at all
    assert status == 401 and json.loads(body)["error_code"] == 401
    status, _, body = curl(pki, "-u", "alice:password", primary.url + "/config")  # an OBF: password
    assert status == 200 and json.loads(body) == {"compatibilityLevel": "BACKWARD"}
    status, _, body = curl(pki, "-u", "guest:guest-secret", primary.url + "/subjects")  # role not let in
    assert status == 403 and json.loads(body) == {"error_code": 403, "message": "Forbidden"}
    status, _, err = curl(pki, "-u", "admin:admin-secret", primary.url.replace("https://", "http://") + "/subjects")
    assert status == 0, err  # plain HTTP to the TLS listener gets no HTTP answer
    assert primary.alive()


def test_follower_forwards_writes_to_the_primary_over_https(stack):
    pki, _, primary, follower, _, _ = stack
    schema = json.dumps({"schema": json.dumps({"type": "record", "name": "Fwd",
                                               "fields": [{"name": "a", "type": "string"}]})})
    status, _, body = curl(pki, "-u", "admin:wrong", "-X", "POST", "-H", "Content-Type: application/json",
                           "-d", schema, follower.url + "/subjects/fwd-value/versions")
    assert status == 401, body  # the follower checks the caller itself
    status, _, body = curl(pki, "-u", "admin:admin-secret", "-X", "POST", "-H", "Content-Type: application/json",
                           "-d", schema, follower.url + "/subjects/fwd-value/versions")
    assert status == 200, body
    schema_id = json.loads(body)["id"]
    status, _, body = curl(pki, "-u", "admin:admin-secret", primary.url + "/subjects/fwd-value/versions/latest")
    assert status == 200 and json.loads(body)["id"] == schema_id


def test_registry_clients_log_in_with_user_info_over_https(stack):
    """confluent-kafka's client (as Brook's tools build it) and the Avro console producer and consumer."""
    from brook.registry.client import registry_client

    pki, d, primary, _, ksql, _ = stack
    settings = {"schema.registry.url": primary.url, "basic.auth.credentials.source": "USER_INFO",
                "basic.auth.user.info": "admin:admin-secret", "schema.registry.ssl.truststore.location": str(pki.ca)}
    assert "fwd-value" in registry_client(settings).get_subjects()
    from confluent_kafka.schema_registry.error import SchemaRegistryError

    with pytest.raises(SchemaRegistryError) as e:
        registry_client({**settings, "basic.auth.user.info": "admin:nope"}).get_subjects()
    assert e.value.http_status_code == 401
    bootstrap = ksql.overrides["bootstrap.servers"]
    value_schema = json.dumps({"type": "record", "name": "Tool", "fields": [{"name": "f1", "type": "string"}]})
    props = ["--property", f"schema.registry.url={primary.url}",
             "--property", "basic.auth.credentials.source=USER_INFO",
             "--property", "basic.auth.user.info=alice:password",
             "--property", f"schema.registry.ssl.truststore.location={pki.ca}"]
    done = tool("kafka-avro-console-producer", "--bootstrap-server", bootstrap, "--topic", "sr-tool", *props,
                "--property", f"value.schema={value_schema}", stdin='{"f1": "value1"}\n')
    assert done.returncode == 0, done.stderr
    done = tool("kafka-avro-console-consumer", "--bootstrap-server", bootstrap, "--topic", "sr-tool",
                "--from-beginning", "--max-messages", "1", *props)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ['{"f1":"value1"}']


# -- ksqlDB ------------------------------------------------------------------------------------------------------
def test_ksql_https_and_basic_auth(stack):
    import httpx2

    pki, _, _, _, ksql, _ = stack
    url = f"https://127.0.0.1:{ksql.port}"
    with httpx2.Client(verify=rest_tls.client_context(rest_tls.getter({"ssl.truststore.location": str(pki.ca)})),
                       timeout=30) as client:
        r = client.post(url + "/ksql", json={"ksql": "SHOW STREAMS;"}, auth=ADMIN)
        assert r.status_code == 200 and r.json()[0]["@type"] == "streams"
        r = client.post(url + "/ksql", json={"ksql": "SHOW STREAMS;"}, auth=("admin", "wrong"))
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == 'Basic realm="KsqlServer-Props"'
        assert r.json() == {"@type": "generic_error", "error_code": 40100, "message": "Unauthorized"}
        r = client.get(url + "/info", auth=GUEST)
        assert r.status_code == 403 and r.json()["error_code"] == 40300
    status, _, err = curl(pki, "-u", "admin:admin-secret", f"http://127.0.0.1:{ksql.port}/info")
    assert status == 0, err
    assert ksql.alive()


def test_ksql_cli_with_user_password_and_config_file(stack):
    pki, d, _, _, ksql, _ = stack
    config = d / "cli.properties"
    config.write_text(f"ssl.truststore.location={pki.ca}\nssl.truststore.type=PEM\n")
    exe = str(Path(sys.executable).parent / "ksql")
    url = f"https://127.0.0.1:{ksql.port}"
    env = {**os.environ, "HOME": str(d), "COLUMNS": "80"}
    done = subprocess.run([exe, "-u", "alice", "-p", "password", "--config-file", str(config), url, "-e",
                           "SHOW STREAMS;"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert "Stream Name" in done.stdout
    done = subprocess.run([exe, "-u", "alice", "-p", "wrong", "--config-file", str(config), url, "-e",
                           "SHOW STREAMS;"], capture_output=True, text=True, timeout=60, env=env)
    assert "Stream Name" not in done.stdout and "Unauthorized" in done.stdout + done.stderr


def test_ksql_registers_avro_schemas_through_the_secured_registry(stack):
    import httpx2

    pki, _, primary, _, ksql, _ = stack
    verify = rest_tls.client_context(rest_tls.getter({"ssl.truststore.location": str(pki.ca)}))
    with httpx2.Client(verify=verify, timeout=60) as client:
        r = client.post(f"https://127.0.0.1:{ksql.port}/ksql", auth=ADMIN, json={
            "ksql": "CREATE STREAM secured (id INT KEY, name VARCHAR) WITH (kafka_topic='secured', "
                    "value_format='AVRO', partitions=1);"})
        assert r.status_code == 200, r.text
        r = client.get(primary.url + "/subjects/secured-value/versions/latest", auth=ADMIN)
        assert r.status_code == 200, r.text
        assert [f["name"] for f in json.loads(r.json()["schema"])["fields"]] == ["NAME"]


# -- Kafka Connect -----------------------------------------------------------------------------------------------
def test_connect_https_and_basic_auth(stack):
    pki, _, _, _, _, worker = stack
    assert worker.url.startswith("https://")
    status, _, body = curl(pki, "-u", "admin:admin-secret", worker.url + "/connectors")
    assert status == 200 and isinstance(json.loads(body), list)
    status, headers, body = curl(pki, "-u", "admin:wrong", worker.url + "/connectors")
    assert (status, body) == (401, "User cannot access the resource.")
    assert "www-authenticate" not in headers  # Kafka's filter sends no challenge
    status, _, err = curl(pki, "-u", "admin:admin-secret", worker.url.replace("https://", "http://") + "/")
    assert status == 0, err


def test_avro_converter_against_a_registry_requiring_basic_auth_over_https(stack):
    """Issue #14: the schema-registry converters' Basic Auth, now exercised end to end."""
    import base64
    import urllib.request

    pki, d, primary, _, _, worker = stack
    src, sink = d / "conv.txt", d / "conv.sink.txt"
    src.write_text("hello\n")
    conv = {"key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "io.confluent.connect.avro.AvroConverter",
            "value.converter.schema.registry.url": primary.url,
            "value.converter.basic.auth.credentials.source": "USER_INFO",
            "value.converter.basic.auth.user.info": "admin:admin-secret",
            "value.converter.schema.registry.ssl.truststore.location": str(pki.ca),
            "value.converter.schema.registry.ssl.truststore.type": "PEM",
            "transforms": "MakeMap", "transforms.MakeMap.type": "org.apache.kafka.connect.transforms.HoistField$Value",
            "transforms.MakeMap.field": "line"}
    ctx = rest_tls.client_context(rest_tls.getter({"ssl.truststore.location": str(pki.ca)}))
    auth = "Basic " + base64.b64encode(b"admin:admin-secret").decode()
    for name, config in (("conv-source", {"connector.class": "FileStreamSource", "file": str(src), "topic": "conv",
                                          **conv}),
                         ("conv-sink", {"connector.class": "FileStreamSink", "file": str(sink), "topics": "conv",
                                        **{k: v for k, v in conv.items() if not k.startswith("transforms")}})):
        req = urllib.request.Request(worker.url + "/connectors", method="POST",
                                     data=json.dumps({"name": name, "config": config}).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": auth})
        with urllib.request.urlopen(req, timeout=30, context=ctx) as resp:
            assert resp.status == 201
    assert wait_for(lambda: sink.exists() and sink.read_text().splitlines()) == ["Struct{line=hello}"]
    status, _, body = curl(pki, "-u", "admin:admin-secret", primary.url + "/subjects/conv-value/versions/latest")
    assert status == 200 and json.loads(json.loads(body)["schema"])["fields"][0]["name"] == "line"


# -- the settings' edges -----------------------------------------------------------------------------------------
def test_jks_stores_and_unknown_login_modules_stop_with_a_message(tmp_path):
    jks = tmp_path / "server.jks"
    jks.write_bytes(b"\xfe\xed\xfe\xed" + bytes(60))
    with pytest.raises(ConfigError, match="JKS store"):
        rest_tls.server_context(rest_tls.getter({"ssl.keystore.location": str(jks)}), "NONE")
    with pytest.raises(ConfigError, match="Unsupported JAAS login module"):
        rest_auth.UserStore.load("com.example.LdapLoginModule", {"file": "x"})
    assert rest_auth.credential_matches("MD5:5f4dcc3b5aa765d61d8327deb882cf99", "password")
    assert not rest_auth.credential_matches("MD5:5f4dcc3b5aa765d61d8327deb882cf99", "Password")


def test_distributed_workers_forward_a_task_restart_over_https_with_the_callers_credentials(stack, tmp_path):
    """Two connect-distributed workers on https with Basic auth: a task restart sent to the worker that does not
    run the task is forwarded to the one that does (Kafka's forwarding), over TLS, with the caller's login."""
    from connect.connect_helpers import REPO

    pki, d, _, _, ksql, _ = stack
    text = (REPO / "config" / "connect-distributed.properties").read_text()
    text = text.replace("bootstrap.servers=localhost:9092", f"bootstrap.servers={ksql.overrides['bootstrap.servers']}")
    extra = {"group.id": "secure-cluster", "config.storage.topic": "sec-configs", "offset.storage.topic": "sec-offsets",
             "status.storage.topic": "sec-status", "offset.storage.partitions": "1", "status.storage.partitions": "1",
             "listeners": "https://127.0.0.1:0", "rest.extension.classes": rest_auth.CONNECT_EXTENSION,
             "ssl.keystore.location": str(pki.server), "ssl.keystore.type": "PEM",
             "ssl.truststore.location": str(pki.ca), "session.timeout.ms": "6000", "heartbeat.interval.ms": "1000"}
    props = tmp_path / "distributed.properties"
    props.write_text(text + "".join(f"\n{k}={v}" for k, v in extra.items()) + "\n")
    env = {"KAFKA_OPTS": f"-Djava.security.auth.login.config={d / 'connect.jaas'}"}
    workers = {}
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            w = ConnectProcess(tmp_path / name, str(props), script="connect-distributed", env=env).start()
            workers[w.url.removeprefix("https://")] = w
        wait_for(lambda: all(f"members {sorted(workers)}" in w.log_text() for w in workers.values()),
                 timeout=60, what="both workers in the group")
        any_worker = next(iter(workers.values()))
        config = {"connector.class": "FileStreamSink", "file": str(tmp_path / "out.txt"), "topics": "sec-dist",
                  "tasks.max": "2"}
        status, _, body = curl(pki, "-u", "admin:admin-secret", "-X", "POST", "-H", "Content-Type: application/json",
                               "-d", json.dumps({"name": "sec-sink", "config": config}), any_worker.url + "/connectors")
        assert status == 201, body

        def task_owners():
            status, _, body = curl(pki, "-u", "admin:admin-secret", any_worker.url + "/connectors/sec-sink/status")
            tasks = json.loads(body).get("tasks", []) if status == 200 else []
            return [t["worker_id"] for t in tasks] if len(tasks) == 2 else None
        owner = wait_for(task_owners, timeout=30, what="both tasks placed")[0]
        [other] = [w for wid, w in workers.items() if wid != owner]
        restart = other.url + "/connectors/sec-sink/tasks/0/restart"
        status, _, body = curl(pki, "-u", "admin:wrong", "-X", "POST", restart)
        assert (status, body) == (401, "User cannot access the resource.")
        status, _, body = curl(pki, "-u", "admin:admin-secret", "-X", "POST", restart)
        assert status == 204, body  # forwarded to the owner over https, which let the caller in too
    finally:
        for w in workers.values():
            w.stop()
