#!/usr/bin/env bash
# Hand-run tests for the ./parley launcher (not part of the Maven suite).
#
#   scripts/test-launcher.sh           JDK detection tests + build/run tests on
#                                      a tiny synthetic Maven project (~1 min)
#   scripts/test-launcher.sh --quick   JDK detection tests only (seconds)
#
# Never modifies the real checkout: build/run tests use a copy of the launcher
# inside a throw-away project under a temp dir.
# "cond && ok ... || bad ..." is fine here: ok always succeeds.
# shellcheck disable=SC2015
set -uo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
LAUNCHER="$ROOT/parley"
# An old JDK (< 21) and the one the launcher picks; override with JDK17=... JDK25=... elsewhere.
JDK17=${JDK17:-$(find /usr/lib/jvm -maxdepth 1 -name '*17*' -type d 2>/dev/null | sort | head -n 1)}
JDK25=${JDK25:-$(PARLEY_PRINT_JDK=1 "$LAUNCHER")}
NO_JDK_MSG="parley: no JDK 21 or newer found (looked at JAVA_HOME, PATH and /usr/lib/jvm); install one, e.g. 'apt-get install openjdk-21-jdk' or set JAVA_HOME"
NO_MVN_MSG="parley: Maven 3.8+ not found on PATH; install it, e.g. 'apt-get install maven'"
QUICK=0
[[ ${1:-} == --quick ]] && QUICK=1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/parley-launcher-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

pass=0 fail=0
ok()  { printf 'PASS  %s\n' "$1"; pass=$((pass + 1)); }
bad() { printf 'FAIL  %s\n' "$1"; shift; printf '      %s\n' "$@"; fail=$((fail + 1)); }

# expect_eq <name> <expected> <actual>
expect_eq() {
    if [[ $2 == "$3" ]]; then ok "$1"; else bad "$1" "expected: $2" "actual:   $3"; fi
}

# print_jdk <env assignments...>: run the launcher in a clean env with PARLEY_PRINT_JDK=1
print_jdk() {
    env -i HOME="$HOME" PARLEY_PRINT_JDK=1 "$@" "$LAUNCHER" 2>&1
}

for d in "$JDK17" "$JDK25"; do
    [[ -x $d/bin/javac ]] || { echo "missing $d (set JDK17/JDK25)"; exit 2; }
done
SYS_PATH=/usr/local/bin:/usr/bin:/bin

echo "== JDK detection"

# (a) JAVA_HOME unset, java 17 first on PATH -> Temurin 25 from /usr/lib/jvm
out=$(print_jdk PATH="$JDK17/bin:$SYS_PATH"); rc=$?
expect_eq "(a) JAVA_HOME unset, PATH java 17 -> picks $JDK25" "0:$JDK25" "$rc:$out"

# (b) JAVA_HOME too old -> falls through
out=$(print_jdk JAVA_HOME="$JDK17" PATH="$JDK17/bin:$SYS_PATH"); rc=$?
expect_eq "(b) JAVA_HOME=$JDK17 (too old) -> falls through to $JDK25" "0:$JDK25" "$rc:$out"

# (b2) a good JAVA_HOME wins (trailing slash tolerated), /usr/lib/jvm not needed
out=$(print_jdk JAVA_HOME="$JDK25/" PATH="$JDK17/bin:$SYS_PATH" PARLEY_JVM_DIR=/nonexistent); rc=$?
expect_eq "(b2) JAVA_HOME=$JDK25/ is used as is" "0:$JDK25" "$rc:$out"

# (b3) JDK on PATH found through a symlink, without /usr/lib/jvm
mkdir -p "$TMP/pathlink"
ln -s "$JDK25/bin/javac" "$TMP/pathlink/javac"
ln -s "$JDK25/bin/java" "$TMP/pathlink/java"
out=$(print_jdk JAVA_HOME="$JDK17" PATH="$TMP/pathlink:$SYS_PATH" PARLEY_JVM_DIR=/nonexistent); rc=$?
expect_eq "(b3) javac symlinked on PATH -> real JDK home" "0:$JDK25" "$rc:$out"

# Fake JDKs: bin/java and bin/javac print a given version string.
# make_fake_jdk <dir> <version string> <spec version or "">
make_fake_jdk() {
    mkdir -p "$1/bin"
    cat >"$1/bin/java" <<EOF
#!/bin/sh
for a in "\$@"; do
  if [ "\$a" = "-XshowSettings:properties" ] && [ -n "$3" ]; then
    echo "Property settings:" >&2
    echo "    java.specification.version = $3" >&2
  fi
done
echo 'openjdk version "$2" 2025-04-15' >&2
echo 'OpenJDK Runtime Environment (build $2)' >&2
EOF
    cp "$1/bin/java" "$1/bin/javac"
    chmod +x "$1/bin/java" "$1/bin/javac"
}

# (c) nothing >= 21 anywhere: exactly one actionable line, exit 3
fakebin="$TMP/fakebin"
make_fake_jdk "$TMP/fake17" "17.0.15" "17"
mkdir -p "$fakebin"
ln -s "$TMP/fake17/bin/java" "$fakebin/java"
ln -s "$TMP/fake17/bin/javac" "$fakebin/javac"
for tool in bash env readlink; do ln -s "$(command -v "$tool")" "$fakebin/$tool"; done
out=$(env -i HOME="$HOME" PATH="$fakebin" PARLEY_JVM_DIR=/nonexistent "$LAUNCHER" demo 2>&1 >/dev/null); rc=$?
expect_eq "(c) no JDK >= 21 -> one line on stderr, exit 3" "3:$NO_JDK_MSG" "$rc:$out"
out=$(env -i HOME="$HOME" PATH="$fakebin" PARLEY_JVM_DIR=/nonexistent "$LAUNCHER" demo 2>/dev/null); rc=$?
expect_eq "(c) ... and nothing on stdout" "3:" "$rc:$out"
out=$(env -i HOME="$HOME" PATH="$fakebin" JAVA_HOME="$TMP/fake17" PARLEY_JVM_DIR=/nonexistent "$LAUNCHER" test 2>&1); rc=$?
expect_eq "(c2) also for 'test' with an old JAVA_HOME" "3:$NO_JDK_MSG" "$rc:$out"

# (d) version parsing and "highest version wins" in the JVM directory
jvm="$TMP/jvm"
make_fake_jdk "$jvm/java-8"  "1.8.0_402" "1.8"
make_fake_jdk "$jvm/jdk-17"  "17.0.15"   "17"
make_fake_jdk "$jvm/jdk-21"  "21"        ""      # only parseable from java -version
make_fake_jdk "$jvm/jdk-22"  "22-ea"     ""
make_fake_jdk "$jvm/jdk-25"  "25.0.3"    "25"
make_fake_jdk "$jvm/jdk-100" "100.0.1"   "100"
mkdir -p "$jvm/jre-99/bin"                       # no javac: not a JDK
cp "$jvm/jdk-100/bin/java" "$jvm/jre-99/bin/java"
mkdir -p "$jvm/empty"
ln -s jdk-25 "$jvm/default-java"
run_fake() { print_jdk PATH="$fakebin" PARLEY_JVM_DIR="$jvm" "$@"; }
out=$(run_fake); rc=$?
expect_eq "(d) highest of 1.8/17/21/22-ea/25.0.3/100.0.1 -> jdk-100 (JRE 99 skipped)" "0:$jvm/jdk-100" "$rc:$out"
rm -rf "$jvm/jdk-100"
out=$(run_fake); rc=$?
expect_eq "(d) without 100 -> 25.0.3" "0:$jvm/jdk-25" "$rc:$out"
rm -rf "$jvm/jdk-25" "$jvm/default-java"
out=$(run_fake); rc=$?
expect_eq "(d) without 25 -> 22-ea" "0:$jvm/jdk-22" "$rc:$out"
rm -rf "$jvm/jdk-22"
out=$(run_fake); rc=$?
expect_eq "(d) without 22 -> 21 (plain \"21\", no properties output)" "0:$jvm/jdk-21" "$rc:$out"
make_fake_jdk "$jvm/jdk-23r" "garbage" ""      # version only in the release file
printf 'IMPLEMENTOR="Test"\nJAVA_VERSION="23.0.1"\n' >"$jvm/jdk-23r/release"
out=$(run_fake); rc=$?
expect_eq "(d) JAVA_VERSION=\"23.0.1\" read from <home>/release" "0:$jvm/jdk-23r" "$rc:$out"
rm -rf "$jvm/jdk-23r"
out=$(run_fake JAVA_HOME="$jvm/java-8"); rc=$?
expect_eq "(d) JAVA_HOME=1.8.0_402 is too old" "0:$jvm/jdk-21" "$rc:$out"
rm -rf "$jvm/jdk-21"
out=$(run_fake); rc=$?
expect_eq "(d) only 1.8 and 17 -> exit 3" "3:$NO_JDK_MSG" "$rc:$out"

# (e) no Maven on PATH -> one actionable line, exit 3
out=$(env -i HOME="$HOME" PATH="$fakebin" JAVA_HOME="$JDK25" "$LAUNCHER" test 2>&1); rc=$?
expect_eq "(e) 'test' without mvn on PATH -> exit 3" "3:$NO_MVN_MSG" "$rc:$out"

shellcheck_ok=""
if command -v shellcheck >/dev/null; then
    if sc=$(shellcheck "$LAUNCHER" "$ROOT/.ci/run" "${BASH_SOURCE[0]}" 2>&1); then
        ok "shellcheck parley .ci/run scripts/test-launcher.sh"
    else
        bad "shellcheck" "$sc"
    fi
    shellcheck_ok=1
fi
[[ -n $shellcheck_ok ]] || echo "SKIP  shellcheck (not installed)"

if ((QUICK)); then
    echo "== $pass passed, $fail failed (build tests skipped: --quick)"
    ((fail == 0)); exit
fi

# --------------------------------------------------------------------------
# Build / run tests on a synthetic project laid out like Parley's app module.
echo "== build and run (synthetic project in $TMP/proj)"
P="$TMP/proj"
mkdir -p "$P/app/src/main/java/org/parley/app" "$P/lib/src/main/java/org/parley/lib"
cp "$LAUNCHER" "$P/parley"
cat >"$P/pom.xml" <<'EOF'
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>org.parley.launchertest</groupId><artifactId>parent</artifactId>
  <version>0.1.0-SNAPSHOT</version><packaging>pom</packaging>
  <modules><module>lib</module><module>app</module></modules>
  <properties>
    <maven.compiler.release>21</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <build><pluginManagement><plugins>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.14.0</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-surefire-plugin</artifactId><version>3.5.4</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-jar-plugin</artifactId><version>3.4.2</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-install-plugin</artifactId><version>3.1.4</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version></plugin>
  </plugins></pluginManagement></build>
</project>
EOF
cat >"$P/lib/pom.xml" <<'EOF'
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>org.parley.launchertest</groupId><artifactId>parent</artifactId><version>0.1.0-SNAPSHOT</version></parent>
  <artifactId>lib</artifactId>
</project>
EOF
cat >"$P/app/pom.xml" <<'EOF'
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>org.parley.launchertest</groupId><artifactId>parent</artifactId><version>0.1.0-SNAPSHOT</version></parent>
  <artifactId>parley-app</artifactId>
  <dependencies>
    <dependency><groupId>org.parley.launchertest</groupId><artifactId>lib</artifactId><version>0.1.0-SNAPSHOT</version></dependency>
  </dependencies>
  <build><plugins><plugin>
    <groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId>
    <executions><execution><id>runtime-libs</id><phase>package</phase><goals><goal>copy-dependencies</goal></goals>
      <configuration><outputDirectory>${project.build.directory}/parley-lib</outputDirectory><includeScope>runtime</includeScope></configuration>
    </execution></executions>
  </plugin></plugins></build>
</project>
EOF
cat >"$P/lib/src/main/java/org/parley/lib/Greeting.java" <<'EOF'
package org.parley.lib;
public final class Greeting { public static String text() { return "v1"; } }
EOF
cat >"$P/app/src/main/java/org/parley/app/Main.java" <<'EOF'
package org.parley.app;
public final class Main {
    public static void main(String[] args) throws Exception {
        System.out.println("greeting=" + org.parley.lib.Greeting.text());
        System.out.println("cwd=" + System.getProperty("user.dir"));
        System.out.println("args=" + String.join("|", args));
        System.out.println("java=" + Runtime.version().feature());
        System.out.println("native=" + java.lang.management.ManagementFactory.getRuntimeMXBean()
                .getInputArguments().contains("--enable-native-access=ALL-UNNAMED"));
        System.out.println("prop=" + System.getProperty("parley.test"));
        if (args.length > 0 && args[0].equals("wait")) { // wait <started-file> <stop-file>
            java.nio.file.Files.writeString(java.nio.file.Path.of(args[1]), "started");
            for (int i = 0; i < 1200 && !java.nio.file.Files.exists(java.nio.file.Path.of(args[2])); i++) {
                Thread.sleep(100);
            }
        }
        if (args.length > 0 && args[0].equals("write")) java.nio.file.Files.writeString(java.nio.file.Path.of(args[1]), "x");
    }
}
EOF
mkdir -p "$TMP/bin" "$TMP/caller"
ln -s "$P/parley" "$TMP/bin/parley"       # called through a symlink ...
cd "$TMP/caller" || exit 2                  # ... from an unrelated cwd
RUN_ENV=(env -u JAVA_HOME PATH="$JDK17/bin:$PATH" PARLEY_JAVA_OPTS="-Dparley.test=yes -Xmx64m")
run() { "${RUN_ENV[@]}" "$TMP/bin/parley" "$@"; }

start=$SECONDS
out=$(run write ./alice "a b" 2>"$TMP/err"); rc=$?
err=$(cat "$TMP/err")
expect_eq "(f) first run builds, then runs Main" "0" "$rc"
[[ $err == *"parley: building (first run takes a minute)..."* ]] && ok "(f) build notice on stderr" || bad "(f) build notice" "$err"
grep -qx "greeting=v1" <<<"$out" && ok "(f) dependency jar from parley-lib on the classpath" || bad "(f) greeting" "$out"
grep -qx "cwd=$TMP/caller" <<<"$out" && ok "(f) java keeps the caller's cwd" || bad "(f) cwd" "$out"
[[ -f $TMP/caller/alice ]] && ok "(f) relative path ./alice resolved against caller's cwd" || bad "(f) relative path" "$(ls "$TMP/caller")"
grep -qx "args=write|./alice|a b" <<<"$out" && ok "(f) arguments passed verbatim" || bad "(f) args" "$out"
grep -qx "java=25" <<<"$out" && ok "(f) runs on JDK 25 although PATH java is 17" || bad "(f) java" "$out"
grep -qx "native=true" <<<"$out" && ok "(f) --enable-native-access=ALL-UNNAMED passed" || bad "(f) native" "$out"
grep -qx "prop=yes" <<<"$out" && ok "(f) PARLEY_JAVA_OPTS passed" || bad "(f) opts" "$out"
[[ -f $P/app/target/parley-lib/.stamp ]] && ok "(f) stamp written" || bad "(f) stamp" "missing"
echo "      (first build took $((SECONDS - start))s)"

start=$(date +%s%N)
out=$(run hello 2>"$TMP/err"); rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "(g) second run: no build, stderr empty" "0:" "$rc:$(cat "$TMP/err")"
echo "      (up-to-date run incl. JVM start took ${ms}ms)"

sleep 1.1
sed -i 's/"v1"/"v2"/' "$P/lib/src/main/java/org/parley/lib/Greeting.java"
out=$(run 2>"$TMP/err"); rc=$?
[[ $rc == 0 && $(cat "$TMP/err") == *building* ]] && grep -qx "greeting=v2" <<<"$out" &&
    ok "(h) edited source under */src/main -> rebuilt" || bad "(h) rebuild on source change" "$rc" "$(cat "$TMP/err")" "$out"

sleep 1.1
touch "$P/app/pom.xml"
out=$(run 2>"$TMP/err"); rc=$?
[[ $rc == 0 && $(cat "$TMP/err") == *building* ]] && ok "(h) touched pom.xml -> rebuilt" || bad "(h) pom change" "$(cat "$TMP/err")"

# (i) two invocations at once after a change: exactly one builds
sleep 1.1
sed -i 's/"v2"/"v3"/' "$P/lib/src/main/java/org/parley/lib/Greeting.java"
run >"$TMP/o1" 2>"$TMP/e1" & p1=$!
run >"$TMP/o2" 2>"$TMP/e2" & p2=$!
wait "$p1"; r1=$?; wait "$p2"; r2=$?
builds=$(cat "$TMP/e1" "$TMP/e2" | grep -c 'parley: building')
expect_eq "(i) concurrent runs: both succeed, exactly one builds" "0 0 1" "$r1 $r2 $builds"
grep -qx "greeting=v3" "$TMP/o1" && grep -qx "greeting=v3" "$TMP/o2" &&
    ok "(i) both see the new build" || bad "(i) outputs" "$(cat "$TMP/o1" "$TMP/o2")"

# (j) an app started right after a build does not keep holding the build lock
sleep 1.1
touch "$P/lib/src/main/java/org/parley/lib/Greeting.java"
run wait "$TMP/started" "$TMP/stop" >/dev/null 2>&1 & app=$!
for _ in $(seq 600); do [[ -f $TMP/started ]] && break; sleep 0.1; done
out=$(timeout 100 "${RUN_ENV[@]}" "$TMP/bin/parley" build 2>&1); rc=$?
kill -0 "$app" 2>/dev/null; alive=$?
touch "$TMP/stop"
wait "$app"
expect_eq "(j) 'parley build' while the just-built app runs: not blocked, quiet, exit 0" "0:0:" "$alive:$rc:$out"

# (k) compile error: short report, non-zero exit, nothing executed
sleep 1.1
echo "this is not java" >>"$P/lib/src/main/java/org/parley/lib/Greeting.java"
out=$(run 2>&1); rc=$?
lines=$(wc -l <<<"$out")
if ((rc != 0)) && [[ $out == *"build failed"* && $out == *"Greeting.java"* && $out != *greeting=* ]] && ((lines <= 25)); then
    ok "(k) compile error -> exit $rc, $lines lines, error location shown"
else
    bad "(k) compile error report" "rc=$rc lines=$lines" "$out"
fi
printf '      | %s\n' "${out//$'\n'/$'\n'      | }"
out=$("${RUN_ENV[@]}" "$TMP/bin/parley" build 2>&1); rc=$?
((rc != 0)) && [[ $out == *"build failed"* ]] && ok "(k) 'parley build' fails too (exit $rc)" || bad "(k) build" "$rc" "$out"

echo "== $pass passed, $fail failed"
((fail == 0))
