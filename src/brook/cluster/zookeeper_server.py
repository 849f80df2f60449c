"""zookeeper-server-start [-daemon] zookeeper.properties: Kafka's script, running Debian's ZooKeeper; and
zookeeper-shell host:port[/path] [args...], ZooKeeper's own shell as Kafka's script runs it.

Kafka's script runs org.apache.zookeeper.server.quorum.QuorumPeerMain on the properties file with its heap
(KAFKA_HEAP_OPTS, -Xmx512M -Xms512M unless set) and KAFKA_OPTS; so does this, on the jars of Debian's `zookeeper`
package (apt-get install zookeeper). The process becomes the JVM (exec), so signals reach ZooKeeper itself.
-daemon detaches it, its output in $LOG_DIR/zookeeper.out (LOG_DIR defaults to ./logs), as Kafka's does."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

USAGE = "USAGE: zookeeper-server-start [-daemon] zookeeper.properties"
MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
JARS = Path("/usr/share/java")
# zookeeper.jar's manifest names its other jars; logging is Debian's log4j 1.2 binding, to the console as Kafka's
CLASSPATH = [JARS / "zookeeper.jar", JARS / "slf4j-log4j12.jar", JARS / "log4j-1.2.jar"]
LOG4J_CONF = Path("/etc/zookeeper/conf")


def java_command(properties: str, env: dict[str, str] | os._Environ[str] = os.environ,
                 main_class: str = MAIN_CLASS, args: list[str] | None = None,
                 logger: str = "INFO,CONSOLE") -> list[str]:
    """The command line that runs ZooKeeper on `properties` (or `main_class` on `args`)."""
    missing = [str(j) for j in CLASSPATH if not j.exists()]
    if missing:
        raise FileNotFoundError(f"ZooKeeper is not installed ({', '.join(missing)} missing): "
                                "apt-get install zookeeper")
    java = str(Path(env["JAVA_HOME"]) / "bin" / "java") if env.get("JAVA_HOME") else "java"
    heap = shlex.split(env.get("KAFKA_HEAP_OPTS") or "-Xmx512M -Xms512M")
    classpath = ":".join([str(LOG4J_CONF), *map(str, CLASSPATH)])
    return [java, *heap, *shlex.split(env.get("KAFKA_OPTS", "")), f"-Dzookeeper.root.logger={logger}",
            "-Dzookeeper.log.dir=" + env.get("LOG_DIR", "logs"), "-cp", classpath, main_class,
            *([properties] if args is None else args)]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    daemon = "-daemon" in args
    args = [a for a in args if a != "-daemon"]
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 1
    if not Path(args[0]).is_file():
        print(f"Error: {args[0]} (No such file or directory)", file=sys.stderr)
        return 1
    try:
        cmd = java_command(args[0])
    except FileNotFoundError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    if daemon:
        log_dir = Path(os.environ.get("LOG_DIR", "logs"))
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / "zookeeper.out", "ab") as out:
            subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        return 0
    os.execvp(cmd[0], cmd)


def shell_main(argv: list[str] | None = None) -> int:
    """zookeeper-shell: ZooKeeperMain -server host:port[/path] [command], its log quiet (WARN) as Kafka's tools."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print("USAGE: zookeeper-shell zookeeper_host:port[/path] [args...]", file=sys.stderr)
        return 1
    try:
        cmd = java_command("", {**os.environ, "KAFKA_HEAP_OPTS": os.environ.get("KAFKA_HEAP_OPTS", "-Xmx128M")},
                           "org.apache.zookeeper.ZooKeeperMain", ["-server", *args], "WARN,CONSOLE")
    except FileNotFoundError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    sys.exit(main())
