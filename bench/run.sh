#!/usr/bin/env bash
# Parley benchmarks.
#
#   bench/run.sh [attach|route|e2e|baseline-xmpp|relay|natlab|direct|drill|lookup|all] [--clients N] [--seconds S] [--rounds R]
#                [--pairs 1,10,100] [--concurrency C] [--users U] [--warmup W] [--bench-threads T]
#                [--supernodes S] [--kill K] [--capacity C] [--published U] [--window W] [--no-xmpp]
#   bench/run.sh chat-sync [--history N] [--missing M] [--small-diff 1000,500] [--offline K] [--event-bytes B]
#                [--cases catchup,small-diff,identical] [--repeat R] [--no-xmpp] [--no-cache]
#                (two daemon processes reconcile a group conversation; dispatched by Bench to ChatSyncScenario;
#                 generated histories are cached in bench/target/chat-sync-cache)
#
# Finds the JDK the way ./parley does, builds the project (mvn -q install -DskipTests) when sources changed,
# and runs org.parley.bench.Bench on bench/target/classes + bench/target/lib (copy-dependencies).
# Tables go to standard output; JSON lines are appended to bench/target/results.jsonl.
#
# Environment:
#   BENCH_JAVA_OPTS            extra JVM options of the benchmark JVM
#   BENCH_SUPERNODE_JAVA_OPTS  extra JVM options of the spawned supernode JVM (and of the relay JVM of 'relay')
#   BENCH_RECEIVER_JAVA_OPTS   extra JVM options of the receiving JVM of 'direct'
#   BENCH_DAEMON_JAVA_OPTS     extra JVM options of the client daemon processes of 'chat-sync'
#   BENCH_NO_BUILD=1           never build; use what is in bench/target
#   BENCH_EJABBERDCTL          ejabberdctl to use for baseline-xmpp (default /usr/sbin/ejabberdctl)
#   BENCH_DEBUG=1              report every bench client whose supernode connection closes
set -u

die() {
    printf 'bench: %s\n' "$2" >&2
    exit "$1"
}

self=$(readlink -f -- "${BASH_SOURCE[0]}") || die 1 "cannot resolve own path"
BENCH=${self%/*}
ROOT=${BENCH%/*}
readonly BENCH ROOT

# ---------------------------------------------------------------- JDK (same lookup as ./parley)
[[ -x $ROOT/parley ]] || die 3 "$ROOT/parley not found"
JAVA_HOME=$(PARLEY_PRINT_JDK=1 "$ROOT/parley") || exit 3
export JAVA_HOME
JDK_MAJOR=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$JAVA_HOME/release" 2>/dev/null)
[[ -x $JAVA_HOME/bin/jcmd ]] || die 3 "$JAVA_HOME has no jcmd (needed to read the supernode's heap)"

# ---------------------------------------------------------------- build when needed
STAMP=$BENCH/target/lib/.bench-stamp
needs_build() {
    [[ -d $BENCH/target/classes/org/parley/bench && -d $BENCH/target/lib && -f $STAMP ]] || return 0
    local -a paths=("$ROOT/pom.xml")
    local p
    for p in "$ROOT"/*/pom.xml "$ROOT"/*/src/main; do
        [[ -e $p ]] && paths+=("$p")
    done
    [[ -n $(find "${paths[@]}" -newer "$STAMP" -print -quit 2>/dev/null) ]]
}

build() {
    command -v mvn >/dev/null 2>&1 || die 3 "Maven not found on PATH"
    # the same lock as ./parley, so that concurrent builds of this checkout do not interleave
    local key lock log rc
    key=$(printf '%s' "$ROOT" | cksum)
    lock="${TMPDIR:-/tmp}/parley-build-${UID}-${key%% *}.lock"
    log="${TMPDIR:-/tmp}/parley-bench-build-${UID}.log"
    exec 9>>"$lock" || die 1 "cannot open lock file $lock"
    if ! flock -n 9; then
        printf 'bench: waiting for another build of %s...\n' "$ROOT" >&2
        flock 9 || die 1 "cannot lock $lock"
    fi
    if [[ -n ${JDK_MAJOR:-} ]] && ((JDK_MAJOR >= 23)) && [[ ${MAVEN_OPTS:-} != *--sun-misc-unsafe-memory-access* ]]; then
        export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow"
    fi
    printf 'bench: building (mvn -q install -DskipTests)...\n' >&2
    (cd "$ROOT" && exec mvn -B -q -Dstyle.color=never -DskipTests install 9>&-) >"$log" 2>&1
    rc=$?
    if ((rc != 0)); then
        printf 'bench: build failed (mvn exit %d); last lines of %s:\n' "$rc" "$log" >&2
        grep -v -E '^(\[ERROR\])?[[:space:]]*$' "$log" | tail -n 20 >&2
        printf 'bench: (BENCH_NO_BUILD=1 runs the previous build in bench/target, if there is one)\n' >&2
        exit 1
    fi
    touch "$STAMP"
    flock -u 9
    exec 9>&-
}

if [[ ${BENCH_NO_BUILD:-} != 1 ]] && needs_build; then
    build
fi
[[ -d $BENCH/target/classes/org/parley/bench && -d $BENCH/target/lib ]] ||
    die 1 "bench/target/classes or bench/target/lib is missing: build with 'mvn -q install -DskipTests'"

# ---------------------------------------------------------------- run, and clean up whatever the JVM left behind
mkdir -p "$BENCH/target"
LEFTOVERS="$BENCH/target/.bench-leftovers.$$"
TMP_PREFIX="$(readlink -f -- "${TMPDIR:-/tmp}")/parley-bench-"
child=""

# The JVM removes its supernode process, ejabberd instance and temporary folders itself (also on Ctrl-C);
# this covers a JVM that was killed outright. Only pids and folders the JVM recorded are touched, and only
# if they still look like ours.
cleanup() {
    local kind val cmd
    if [[ -n $child ]] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null
        wait "$child" 2>/dev/null
    fi
    if [[ -s $LEFTOVERS ]]; then
        while read -r kind val; do
            case $kind in
            pid)
                [[ $val =~ ^[0-9]+$ ]] || continue
                cmd=$(tr '\0' ' ' <"/proc/$val/cmdline" 2>/dev/null) || continue
                if [[ $cmd == *org.parley.app.Main* || $cmd == *beam* || $cmd == *org.parley.bench.RelayScenario* || $cmd == *turnserver* || $cmd == *DirectScenario\$Receiver* || $cmd == *iperf3* ]]; then
                    printf 'bench: stopping leftover process %s\n' "$val" >&2
                    kill -TERM "$val" 2>/dev/null
                    sleep 2
                    kill -0 "$val" 2>/dev/null && kill -KILL "$val" 2>/dev/null
                fi
                ;;
            dir)
                [[ $val == "$TMP_PREFIX"* && -d $val ]] && rm -rf -- "$val"
                ;;
            esac
        done <"$LEFTOVERS"
    fi
    rm -f -- "$LEFTOVERS"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

read -r -a jvm_opts <<<"${BENCH_JAVA_OPTS:-}"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED "${jvm_opts[@]}" \
    -Dbench.results="$BENCH/target/results.jsonl" -Dbench.leftovers="$LEFTOVERS" \
    -cp "$BENCH/target/classes:$BENCH/target/lib/*" org.parley.bench.Bench "$@" &
child=$!
wait "$child"
rc=$?
child=""
exit "$rc"
