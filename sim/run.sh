#!/usr/bin/env bash
# Runs the Parley simulator:
#
#   sim/run.sh --scenario churn|outage2010|outage2007|partition|all \
#              [--supernodes N] [--clients M] [--seed S] [--minutes T] \
#              [--loss P] [--hello-timeout MS] [--markdown FILE]
#
# Finds a JDK >= 21 (JAVA_HOME, then PATH, then /usr/lib/jvm/*), builds the sim
# module and what it needs (mvn -o -q -pl sim -am package -DskipTests) when a
# source or pom is newer than the last build, then runs org.parley.sim.SimMain.
#
# Environment:
#   SIM_JAVA_OPTS   JVM options (default -Xmx8g; word-split on spaces)
set -u

readonly MIN_JAVA=21
readonly MAIN_CLASS="org.parley.sim.SimMain"

die() { # die <exit code> <one-line message>
    printf 'sim: %s\n' "$2" >&2
    exit "$1"
}

self=$(readlink -f -- "${BASH_SOURCE[0]}") || die 1 "cannot resolve own path"
SIM_DIR=${self%/*}
ROOT=${SIM_DIR%/*}
readonly SIM_DIR ROOT

# ---------------------------------------------------------------- JDK lookup
# version_major <version string>: 1.8.0_402 -> 8, 17.0.15 -> 17, 21 -> 21, 22-ea -> 22
version_major() {
    local v=$1
    [[ $v =~ ^1\.([0-9]+) ]] && v=${BASH_REMATCH[1]}
    [[ $v =~ ^([0-9]+) ]] || return 1
    printf '%s\n' "$((10#${BASH_REMATCH[1]}))"
}

# jdk_major <home>: major version if <home> is a JDK (bin/java and bin/javac).
jdk_major() {
    local home=$1 line out
    [[ -n $home && -x $home/bin/java && -x $home/bin/javac ]] || return 1
    if [[ -r $home/release ]]; then
        while IFS= read -r line; do
            if [[ $line =~ ^JAVA_VERSION=\"?([0-9][^\"]*) ]]; then
                version_major "${BASH_REMATCH[1]}" && return 0
                break
            fi
        done <"$home/release"
    fi
    out=$("$home/bin/java" -version 2>&1) || out=""
    [[ $out =~ version[[:space:]]+\"([0-9][^\"]*)\" ]] || return 1
    version_major "${BASH_REMATCH[1]}"
}

find_jdk() {
    local home major best="" best_major=0 d tool
    if [[ -n ${JAVA_HOME:-} ]]; then
        home=${JAVA_HOME%/}
        if major=$(jdk_major "$home") && ((major >= MIN_JAVA)); then
            JDK_HOME=$home
            return 0
        fi
    fi
    for tool in javac java; do
        d=$(command -v "$tool" 2>/dev/null) || continue
        d=$(readlink -f -- "$d") || continue
        home=${d%/bin/*}
        if major=$(jdk_major "$home") && ((major >= MIN_JAVA)); then
            JDK_HOME=$home
            return 0
        fi
    done
    for d in /usr/lib/jvm/*/; do
        [[ -d $d ]] || continue
        home=$(readlink -f -- "$d") || continue
        if major=$(jdk_major "$home") && ((major >= MIN_JAVA && major > best_major)); then
            best=$home best_major=$major
        fi
    done
    [[ -n $best ]] || return 1
    JDK_HOME=$best
}

JDK_HOME=""
find_jdk || die 3 "no JDK $MIN_JAVA or newer found (looked at JAVA_HOME, PATH and /usr/lib/jvm); install one or set JAVA_HOME"
export JAVA_HOME=$JDK_HOME
if (($(jdk_major "$JAVA_HOME") >= 23)) && [[ ${MAVEN_OPTS:-} != *--sun-misc-unsafe-memory-access* ]]; then
    export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow"
fi

# ---------------------------------------------------------------- build if needed
STAMP="$SIM_DIR/target/run.stamp"
CLASSPATH_FILE="$SIM_DIR/target/run.classpath"

needs_build() {
    [[ -f $STAMP && -f $CLASSPATH_FILE && -d $SIM_DIR/target/classes ]] || return 0
    local -a paths=("$ROOT/pom.xml")
    local m
    for m in protocol overlay sim; do
        [[ -e $ROOT/$m/pom.xml ]] && paths+=("$ROOT/$m/pom.xml")
        [[ -d $ROOT/$m/src/main ]] && paths+=("$ROOT/$m/src/main")
    done
    [[ -n $(find "${paths[@]}" -newer "$STAMP" -print -quit 2>/dev/null) ]]
}

if needs_build; then
    command -v mvn >/dev/null 2>&1 || die 3 "Maven 3.8+ not found on PATH"
    log="${TMPDIR:-/tmp}/parley-sim-build-$UID.log"
    printf 'sim: building (log: %s)...\n' "$log" >&2
    if ! (cd "$ROOT" && mvn -B -q -o -pl sim -am package -DskipTests \
            dependency:build-classpath -Dmdep.outputFile="$CLASSPATH_FILE" -Dmdep.includeScope=runtime) >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        die 1 "build failed; full log: $log"
    fi
    touch "$STAMP"
fi

read -r -a java_opts <<<"${SIM_JAVA_OPTS:--Xmx8g}"
exec "$JAVA_HOME/bin/java" "${java_opts[@]}" -cp "$SIM_DIR/target/classes:$(cat "$CLASSPATH_FILE")" "$MAIN_CLASS" "$@"
