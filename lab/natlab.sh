#!/usr/bin/env bash
# natlab.sh - a NAT lab for Parley made of Linux network namespaces and iptables.
# See lab/README.md for the topology, the rules of each NAT type and what `check` proves.
set -euo pipefail

PATH=$PATH:/usr/sbin:/sbin
P=${NATLAB_PREFIX:-plab-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROBE=$HERE/udpprobe.py

usage() {
    cat <<EOF
usage: natlab.sh COMMAND [ARGS]

  up                      (re)create the lab (runs down first)
  down                    remove every namespace named ${P}* (and so their veths)
  exec NODE CMD...        run CMD in NODE's namespace (NODE: inet, a client, or n-<client>/n-lan)
  block NODE_A NODE_B     drop all UDP between the two nodes' public addresses in inet
  unblock NODE_A NODE_B   undo block
  addr NODE               print NODE's own (inner) IPv4 address
  public NODE             print the public (NAT WAN) address of NODE
  list                    print "NODE TYPE INNER PUBLIC" for every client node
  check                   self-check of the NAT behaviour (run after up); exit 0 if all holds
  --help                  this text

Clients (NAT type): full1 full2 (full-cone), addr1 addr2 (address-restricted cone),
port1 port2 (port-restricted cone), sym1 sym2 (symmetric), lan1 lan2 (both behind one
port-restricted NAT). Servers run in "inet" on 198.18.0.1 (also 198.18.0.2, 198.18.0.3).
Namespace prefix: \$NATLAB_PREFIX (now "${P}"). Needs root, ip (iproute2), iptables;
check also needs python3. Exit code 77 when those are missing.
EOF
}

die() { echo "natlab: $*" >&2; exit 1; }
skip() { echo "natlab: $*" >&2; exit 77; }

# ------------------------------------------------------------------ the lab's shape
NODES=(full1 full2 addr1 addr2 port1 port2 sym1 sym2 lan1 lan2)
declare -A IDX=([full1]=1 [full2]=2 [addr1]=3 [addr2]=4 [port1]=5 [port2]=6 [sym1]=7 [sym2]=8
                [lan1]=9 [lan2]=9)
declare -A TYPE=([full1]=full-cone [full2]=full-cone [addr1]=address-restricted
                 [addr2]=address-restricted [port1]=port-restricted [port2]=port-restricted
                 [sym1]=symmetric [sym2]=symmetric [lan1]=port-restricted [lan2]=port-restricted)
ROUTERS=(n-full1 n-full2 n-addr1 n-addr2 n-port1 n-port2 n-sym1 n-sym2 n-lan)   # router i = ROUTERS[i-1]
SERVER=198.18.0.1
SECOND=198.18.0.2   # second public vantage point (mapping test)
THIRD=198.18.0.3    # never contacted by clients (filtering test: "another IP")

inner() { case $1 in lan1) echo 10.9.0.2 ;; lan2) echo 10.9.0.3 ;; *) echo "10.${IDX[$1]}.0.2" ;; esac; }
public() { echo "198.18.${IDX[$1]}.2"; }
is_client() { [[ -n ${1:-} && -n ${IDX[$1]+x} ]]; }
node_ns() {   # NODE -> namespace name, or die
    local n=${1:-}
    if [[ $n == inet ]] || is_client "$n"; then echo "$P$n"; return; fi
    local r; for r in "${ROUTERS[@]}"; do [[ $n == "$r" ]] && { echo "$P$n"; return; }; done
    die "unknown node '${n}' (try: natlab.sh list)"
}

check_prefix() {
    [[ $P =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,19}$ ]] ||
        die "NATLAB_PREFIX must be 1-20 characters [A-Za-z0-9_.-], got '$P'"
}

preflight() {
    [[ $(id -u) -eq 0 ]] || skip "must run as root (network namespaces and iptables)"
    command -v ip >/dev/null 2>&1 || skip "'ip' not found (Debian package iproute2)"
    command -v iptables >/dev/null 2>&1 || skip "'iptables' not found (Debian package iptables)"
}

python_bin() {
    if [[ -n ${NATLAB_PYTHON:-} ]]; then echo "$NATLAB_PYTHON"
    elif [[ -x /usr/bin/python3 ]]; then echo /usr/bin/python3
    elif command -v python3 >/dev/null 2>&1; then command -v python3
    else skip "'python3' not found (Debian package python3), needed by check"; fi
}

# run quietly; on failure die with one line naming the command and its first error line
x() {
    local out
    if ! out=$("$@" 2>&1); then
        die "failed: $* ($(printf '%s' "$out" | head -n1))"
    fi
}

ns_exists() { [[ -e /run/netns/$1 ]]; }
our_namespaces() {
    local n
    ip netns list 2>/dev/null | awk '{print $1}' | while read -r n; do
        if [[ $n == "$P"* ]]; then echo "$n"; fi
    done
}

# ------------------------------------------------------------------ down
do_down() {
    local ns pids left=()
    for ns in $(our_namespaces); do
        # processes still running inside (servers started with `exec`) would keep the
        # namespace and its veths alive after `ip netns del`: stop them first
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        # shellcheck disable=SC2086  # a list of pids
        if [[ -n $pids ]]; then kill $pids 2>/dev/null || true; left+=("$ns"); fi
    done
    if ((${#left[@]})); then
        local i
        for i in 1 2 3 4 5 6 7 8 9 10; do
            pids=""; for ns in "${left[@]}"; do pids+=" $(ip netns pids "$ns" 2>/dev/null || true)"; done
            [[ -z ${pids// /} ]] && break
            sleep 0.2
        done
        # shellcheck disable=SC2086  # a list of pids
        if [[ -n ${pids// /} ]]; then kill -9 $pids 2>/dev/null || true; fi
    fi
    for ns in $(our_namespaces); do
        ip netns del "$ns" 2>/dev/null || true
    done
    ns=$(our_namespaces | head -n1)
    [[ -z $ns ]] || die "could not delete namespace $ns"
}

# ------------------------------------------------------------------ up
sysctl_ns() { x ip netns exec "$1" sh -c "echo $3 > /proc/sys/${2//.//}"; }

ns_add() {
    x ip netns add "$1"
    x ip -n "$1" link set lo up
}

# iptables rules of NAT router number $1 (type $2, client inner address $3)
nat_rules() {
    local type=$2 client=$3
    echo "*nat"
    echo ":PREROUTING ACCEPT [0:0]"; echo ":INPUT ACCEPT [0:0]"
    echo ":OUTPUT ACCEPT [0:0]"; echo ":POSTROUTING ACCEPT [0:0]"
    case $type in
        symmetric) echo "-A POSTROUTING -o wan -j MASQUERADE --random-fully" ;;
        *)         echo "-A POSTROUTING -o wan -j MASQUERADE" ;;
    esac
    case $type in
        full-cone|address-restricted)
            echo "-A PREROUTING -i wan -p udp -j DNAT --to-destination $client" ;;
    esac
    echo "COMMIT"
    echo "*filter"
    echo ":INPUT ACCEPT [0:0]"; echo ":FORWARD ACCEPT [0:0]"; echo ":OUTPUT ACCEPT [0:0]"
    # unsolicited UDP to the router itself is dropped before conntrack confirms an entry
    # for it, so it cannot steal the port a later outbound MASQUERADE wants to keep
    echo "-A INPUT -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
    echo "-A INPUT -i wan -p udp -j DROP"
    if [[ $type == address-restricted ]]; then
        # remember every remote IP the client sends to (refreshed by every packet)
        echo "-A FORWARD -i lan -o wan -p udp -m recent --name natlab --set --rdest"
    fi
    echo "-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
    echo "-A FORWARD -i lan -j ACCEPT"
    case $type in
        full-cone)
            echo "-A FORWARD -i wan -o lan -p udp -j ACCEPT" ;;
        address-restricted)
            echo "-A FORWARD -i wan -o lan -p udp -m conntrack --ctstate NEW -m recent --name natlab --rcheck --rsource --seconds 300 -j ACCEPT" ;;
    esac
    echo "-A FORWARD -i wan -j DROP"
    echo "COMMIT"
}

do_up() {
    do_down
    trap 'rc=$?; if ((rc)); then do_down >/dev/null 2>&1 || true; fi' EXIT
    local inet=${P}inet i r rns c cns type
    ns_add "$inet"
    x ip -n "$inet" addr add "$SERVER/32" dev lo
    x ip -n "$inet" addr add "$SECOND/32" dev lo
    x ip -n "$inet" addr add "$THIRD/32" dev lo
    sysctl_ns "$inet" net.ipv4.ip_forward 1
    for i in 1 2 3 4 5 6 7 8 9; do
        r=${ROUTERS[i-1]}; rns=$P$r
        ns_add "$rns"
        # both ends are created straight inside their namespaces: nothing in the root one
        x ip link add wan netns "$rns" type veth peer name "n$i" netns "$inet"
        x ip -n "$rns" addr add "198.18.$i.2/24" dev wan
        x ip -n "$rns" link set wan up
        x ip -n "$inet" addr add "198.18.$i.1/24" dev "n$i"
        x ip -n "$inet" link set "n$i" up
        # replies of servers bound to 0.0.0.0 in inet leave from 198.18.0.1, not 198.18.i.1
        x ip -n "$inet" route replace "198.18.$i.0/24" dev "n$i" proto kernel scope link src "$SERVER"
        x ip -n "$rns" route add default via "198.18.$i.1"
        sysctl_ns "$rns" net.ipv4.ip_forward 1
        if ((i < 9)); then
            c=${NODES[i-1]}; cns=$P$c; type=${TYPE[$c]}
            ns_add "$cns"
            x ip link add eth0 netns "$cns" type veth peer name lan netns "$rns"
            x ip -n "$rns" addr add "10.$i.0.1/24" dev lan
            x ip -n "$rns" link set lan up
            x ip -n "$cns" addr add "$(inner "$c")/24" dev eth0
            x ip -n "$cns" link set eth0 up
            x ip -n "$cns" route add default via "10.$i.0.1"
        else
            type="port-restricted"
            x ip -n "$rns" link add lan type bridge
            x ip -n "$rns" addr add "10.$i.0.1/24" dev lan
            x ip -n "$rns" link set lan up
            local k=0
            for c in lan1 lan2; do
                k=$((k + 1)); cns=$P$c
                ns_add "$cns"
                x ip link add eth0 netns "$cns" type veth peer name "l$k" netns "$rns"
                x ip -n "$rns" link set "l$k" master lan
                x ip -n "$rns" link set "l$k" up
                x ip -n "$cns" addr add "$(inner "$c")/24" dev eth0
                x ip -n "$cns" link set eth0 up
                x ip -n "$cns" route add default via "10.$i.0.1"
            done
            c=lan1
        fi
        local rules
        rules=$(nat_rules "$i" "$type" "$(inner "$c")")
        if ! out=$(printf '%s\n' "$rules" | ip netns exec "$rns" iptables-restore 2>&1); then
            die "iptables-restore in $rns failed ($(printf '%s' "$out" | head -n1))"
        fi
    done
    trap - EXIT
    echo "natlab: up ($(our_namespaces | wc -l) namespaces, prefix ${P}); servers go in: natlab.sh exec inet ... on $SERVER"
}

# ------------------------------------------------------------------ block / unblock
block_rule() {   # $1=-C|-I|-D, $2=src, $3=dst
    ip netns exec "${P}inet" iptables -w "$1" FORWARD -s "$2" -d "$3" -p udp \
        -m comment --comment natlab-block -j DROP 2>/dev/null
}

do_block() {   # $1=block|unblock $2 $3
    local a=${2:-} b=${3:-}
    { is_client "$a" && is_client "$b"; } || die "usage: natlab.sh $1 NODE_A NODE_B (client nodes, see list)"
    ns_exists "${P}inet" || die "lab is not up (no namespace ${P}inet); run: natlab.sh up"
    local pa pb; pa=$(public "$a"); pb=$(public "$b")
    [[ $pa != "$pb" ]] || die "$a and $b share the public address $pa: their traffic never crosses inet"
    local s d
    for s in "$pa" "$pb"; do
        d=$pa; [[ $s == "$pa" ]] && d=$pb
        if [[ $1 == block ]]; then
            block_rule -C "$s" "$d" || block_rule -I "$s" "$d" || die "iptables in ${P}inet failed"
        else
            while block_rule -C "$s" "$d"; do block_rule -D "$s" "$d" || die "iptables in ${P}inet failed"; done
        fi
    done
}

# ------------------------------------------------------------------ check
CHK_SRV="" CHK_BLOCKED="" CHK_TMP="" CHK_KEEP=${NATLAB_KEEP:-}
check_cleanup() {
    [[ -z $CHK_SRV ]] || kill "$CHK_SRV" 2>/dev/null || true
    [[ -z $CHK_BLOCKED ]] || do_block unblock full1 port1 2>/dev/null || true
    [[ -z $CHK_TMP || -n $CHK_KEEP ]] || rm -rf "$CHK_TMP"
}
row() { printf '%-22s %s\n' "$1" "$2"; }
verdict() { if [[ $1 == "$2" ]]; then echo ok; else echo FAIL; fi; }
kv() { sed -n "s/^\(.* \)\{0,1\}$2=\([^ ]*\).*/\2/p" "$1" 2>/dev/null | head -n1; }
port_of() { echo "${1##*:}"; }
wait_jobs() { local j; for j in $(jobs -p); do [[ $j == "$CHK_SRV" ]] || wait "$j" || true; done; }

do_check() {
    local PY; PY=$(python_bin)
    [[ -r $PROBE ]] || die "missing $PROBE"
    local ns
    for ns in "${P}inet" "${ROUTERS[@]/#/$P}" "${NODES[@]/#/$P}"; do
        ns_exists "$ns" || die "lab is not up (no namespace $ns); run: natlab.sh up"
    done
    local t0=$SECONDS tmp
    tmp=$(mktemp -d /tmp/natlab-check.XXXXXX); CHK_TMP=$tmp
    mkdir "$tmp/rv"
    trap check_cleanup EXIT
    local base=$((20000 + (RANDOM % 400) * 100))   # fresh ports every run: no stale conntrack
    local run=$RANDOM$RANDOM

    # 0. namespaces and lo
    local bad=""
    for ns in "${P}inet" "${ROUTERS[@]/#/$P}" "${NODES[@]/#/$P}"; do
        ip -n "$ns" -o link show lo | grep -q '[<,]UP[,>]' || bad+=" $ns"
    done

    ip netns exec "${P}inet" "$PY" "$PROBE" server --lifetime 90 \
        --bind "$SERVER:3478" --bind "$SERVER:3479" --bind "$SECOND:3478" --bind "$THIRD:3479" \
        >"$tmp/server.out" 2>&1 &
    CHK_SRV=$!

    for _ in $(seq 1 50); do grep -q ready "$tmp/server.out" 2>/dev/null && break; sleep 0.1; done
    grep -q ready "$tmp/server.out" || die "probe server in ${P}inet did not start: $(head -n1 "$tmp/server.out")"

    nattest() {   # node port -> $tmp/nat.node
        ip netns exec "$P$1" "$PY" "$PROBE" nattest --port "$2" --server "$SERVER:3478" \
            --alt "$SERVER:3479" --other "$THIRD:3479" --second "$SECOND:3478" >"$tmp/nat.$1" 2>&1
    }
    punch() {   # tag mode port nodeA nodeB [duration] -> $tmp/p.tag.node
        local tag=$1 mode=$2 port=$3 a=$4 b=$5 dur=${6:-2.5} me peer
        for me in "$a" "$b"; do
            peer=$b; [[ $me == "$b" ]] && peer=$a
            ip netns exec "$P$me" "$PY" "$PROBE" punch --port "$port" --name "$me" --peer "$peer" \
                --tag "$run-$tag" --rv "$tmp/rv" --server "$SERVER:3478" --mode "$mode" \
                --duration "$dur" >"$tmp/p.$tag.$me" 2>&1 &
        done
    }

    # 1. mapping and filtering of every NAT type (lan2 comes later, on lan1's port)
    local n
    for n in full1 full2 addr1 addr2 port1 port2 sym1 sym2 lan1; do
        nattest "$n" $((base + IDX[$n])) &
    done
    wait_jobs

    # 2. lan2 on lan1's port (shared NAT), lan1<->lan2 on inner addresses, and the
    #    hole-punch matrix sending only to advertised addresses
    local PAIRS=(full1:full2 addr1:addr2 port1:port2 sym1:sym2 full1:addr1 full1:port1
                 full1:sym1 addr1:port1 addr1:sym1 port1:sym1)
    nattest lan2 $((base + IDX[lan1])) &
    ip netns exec "${P}lan1" "$PY" "$PROBE" punch --port $((base + 50)) --name lan1 --tag "$run-inner" \
        --peer-addr "$(inner lan2):$((base + 50))" --duration 2 >"$tmp/p.inner.lan1" 2>&1 &
    ip netns exec "${P}lan2" "$PY" "$PROBE" punch --port $((base + 50)) --name lan2 --tag "$run-inner" \
        --peer-addr "$(inner lan1):$((base + 50))" --duration 2 >"$tmp/p.inner.lan2" 2>&1 &
    local k=0 pr
    for pr in "${PAIRS[@]}"; do
        k=$((k + 1)); punch "adv$k" advertised $((base + 60 + k)) "${pr%%:*}" "${pr##*:}"
    done
    wait_jobs
    # 3. the same matrix, answering peer-reflexive sources
    k=0
    for pr in "${PAIRS[@]}"; do
        k=$((k + 1)); punch "prx$k" prflx $((base + 80 + k)) "${pr%%:*}" "${pr##*:}"
    done
    wait_jobs
    # 4. a direct path that dies and comes back (same ports both times)
    do_block block full1 port1; CHK_BLOCKED=yes
    punch blk prflx $((base + 99)) full1 port1 2; wait_jobs
    do_block unblock full1 port1; CHK_BLOCKED=""
    punch unb prflx $((base + 99)) full1 port1 2; wait_jobs

    kill "$CHK_SRV" 2>/dev/null || true; wait "$CHK_SRV" 2>/dev/null || true; CHK_SRV=""

    check_report "$tmp" "$bad" | tee "$tmp/report"
    local fails; fails=$(grep -c ' FAIL$' "$tmp/report" || true)
    echo
    if ((fails)); then
        CHK_KEEP=yes
        echo "natlab check: $fails expectation(s) FAILED ($((SECONDS - t0)) s; raw probe output kept in $tmp)"
        return 1
    fi
    echo "natlab check: all expectations hold ($((SECONDS - t0)) s)${CHK_KEEP:+; raw probe output kept in $tmp}"
}

check_report() {
    local tmp=$1 bad=$2 PAIRS=(full1:full2 addr1:addr2 port1:port2 sym1:sym2 full1:addr1 full1:port1
                               full1:sym1 addr1:port1 addr1:sym1 port1:sym1)
    echo "== namespaces"
    row "${P}* (20, lo up)" "$(if [[ -z $bad ]]; then echo "all present, lo up"; else echo "lo down:$bad"; fi)  $(verdict "$bad" "")"
    echo
    echo "== mapping and filtering: client binds port P, sends to A=$SERVER:3478, then asks for a packet"
    echo "   from B=$SERVER:3479 (same IP, other port) and C=$THIRD:3479 (other IP), then sends to D=$SECOND:3478"
    printf '%-6s %-19s %-6s %-19s %-19s %-7s %-5s %-5s %-5s %s\n' \
        NODE TYPE P "PUBLIC@A" "PUBLIC@D" "PORT=P" "A==D" "B->" "C->" RESULT
    local n f t pa pd lp pres same fb fc exp got lan1pub=""
    for n in full1 full2 addr1 addr2 port1 port2 sym1 sym2 lan1 lan2; do
        f=$tmp/nat.$n; t=${TYPE[$n]}
        pa=$(kv "$f" public_a); pd=$(kv "$f" public_d); lp=$(kv "$f" local_port)
        fb=$(kv "$f" from_alt_port); fc=$(kv "$f" from_other_ip)
        pres=no; [[ -n $pa && $(port_of "$pa") == "$lp" ]] && pres=yes
        same=no; [[ -n $pa && $pa == "$pd" ]] && same=yes
        got="$same $fb $fc"
        case $t in
            full-cone)          exp="yes yes yes" ;;
            address-restricted) exp="yes yes no" ;;
            port-restricted)    exp="yes no no" ;;
            symmetric)          exp="no no no" ;;
        esac
        case $n in
            lan2) got+=" $pres"; exp+=" no"; [[ $pa != "$lan1pub" ]] || got=clash ;;
            sym*) ;;        # PORT=P is only informational for symmetric ("usually no")
            *)    got+=" $pres"; exp+=" yes" ;;
        esac
        [[ $n == lan1 ]] && lan1pub=$pa
        [[ -n $pa && $pa != none ]] || got="no server"
        printf '%-6s %-19s %-6s %-19s %-19s %-7s %-5s %-5s %-5s %s\n' \
            "$n" "$t" "${lp:-?}" "${pa:-?}" "${pd:-?}" "$pres" "$same" "${fb:-?}" "${fc:-?}" "$(verdict "$got" "$exp")"
    done
    echo "   expected: cone types keep P and A==D; full-cone lets B and C in, address-restricted only B,"
    echo "   port-restricted neither; symmetric A!=D (PORT=P usually no), neither. lan2 binds lan1's port"
    echo "   behind the same NAT: that public port is taken, so it gets another one, but keeps it for D."
    echo
    echo "== hole punching: simultaneous sends to the public address each side learned from A"
    printf '%-12s %-37s %-10s %-10s %-9s %-32s %s\n' PAIR TYPES ADVERTISED PEER-REFLX EXPECTED "PEER-REFLEXIVE (PUBLISHED PORT)" RESULT
    local k=0 pr a b ta tb advok prxok expect seen adv other
    for pr in "${PAIRS[@]}"; do
        k=$((k + 1)); a=${pr%%:*}; b=${pr##*:}; ta=${TYPE[$a]}; tb=${TYPE[$b]}
        advok=fail; [[ $(kv "$tmp/p.adv$k.$a" ok) == yes && $(kv "$tmp/p.adv$k.$b" ok) == yes ]] && advok=ok
        prxok=fail; [[ $(kv "$tmp/p.prx$k.$a" ok) == yes && $(kv "$tmp/p.prx$k.$b" ok) == yes ]] && prxok=ok
        case "$ta/$tb" in
            symmetric/symmetric|port-restricted/symmetric|symmetric/port-restricted) expect="fail fail" ;;
            *symmetric*) expect="fail ok" ;;
            *)           expect="ok ok" ;;
        esac
        seen=""
        for n in "$a" "$b"; do
            f=$tmp/p.prx$k.$n
            [[ $(kv "$f" prflx) == yes ]] || continue
            adv=$(kv "$f" peer_advertised)
            other=$(kv "$f" peer_seen_at | tr ',' '\n' | grep -vxF -- "$adv" | head -n1 || true)
            seen+="$n got :$(port_of "$other") (:$(port_of "$adv")) "
        done
        printf '%-12s %-37s %-10s %-10s %-9s %-32s %s\n' "$a-$b" "$ta/$tb" "$advok" "$prxok" \
            "${expect// //}" "${seen:--}" "$(verdict "$advok $prxok" "$expect")"
    done
    echo "   ADVERTISED: packets and answers go only to the published address. PEER-REFLX: answers go to"
    echo "   the address a packet came from, which also becomes a target (what a cone side must do to"
    echo "   reach a symmetric peer, whose NAT gives the path to each peer its own random port)."
    echo
    echo "== same NAT, block / unblock"
    local li l2 bf bp sf sp uf up
    li=$(kv "$tmp/p.inner.lan1" ok); l2=$(kv "$tmp/p.inner.lan2" ok)
    row "lan1<->lan2 inner" "$(inner lan1) <-> $(inner lan2): ${li:-?}/${l2:-?}  $(verdict "$li $l2" "yes yes")"
    bf=$(kv "$tmp/p.blk.full1" ok); bp=$(kv "$tmp/p.blk.port1" ok)
    sf=$(kv "$tmp/p.blk.full1" server_ok); sp=$(kv "$tmp/p.blk.port1" server_ok)
    row "block full1 port1" "exchange ${bf:-?}/${bp:-?}, full1->$SERVER ${sf:-?}, port1->$SERVER ${sp:-?}  $(verdict "$bf $bp $sf $sp" "no no yes yes")"
    uf=$(kv "$tmp/p.unb.full1" ok); up=$(kv "$tmp/p.unb.port1" ok)
    row "unblock full1 port1" "exchange ${uf:-?}/${up:-?}  $(verdict "$uf $up" "yes yes")"
}

# ------------------------------------------------------------------ main
main() {
    local cmd=${1:-}
    [[ $# -gt 0 ]] && shift
    case $cmd in
        -h|--help|help) usage; return 0 ;;
        "") die "missing command (see --help)" ;;
    esac
    check_prefix
    case $cmd in
        up)     [[ $# -eq 0 ]] || die "usage: natlab.sh up"; preflight; do_up ;;
        down)   [[ $# -eq 0 ]] || die "usage: natlab.sh down"; preflight; do_down ;;
        exec)   [[ $# -ge 2 ]] || die "usage: natlab.sh exec NODE CMD..."
                preflight; local ns; ns=$(node_ns "$1"); shift
                ns_exists "$ns" || die "lab is not up (no namespace $ns); run: natlab.sh up"
                exec ip netns exec "$ns" "$@" ;;
        block|unblock) [[ $# -eq 2 ]] || die "usage: natlab.sh $cmd NODE_A NODE_B"
                preflight; do_block "$cmd" "$1" "$2" ;;
        addr)   [[ $# -eq 1 ]] || die "usage: natlab.sh addr NODE"
                if [[ $1 == inet ]]; then echo "$SERVER"; else is_client "$1" || die "unknown node '$1' (try: natlab.sh list)"; inner "$1"; fi ;;
        public) [[ $# -eq 1 ]] || die "usage: natlab.sh public NODE"
                if [[ $1 == inet ]]; then echo "$SERVER"; else is_client "$1" || die "unknown node '$1' (try: natlab.sh list)"; public "$1"; fi ;;
        list)   [[ $# -eq 0 ]] || die "usage: natlab.sh list"
                local n; for n in "${NODES[@]}"; do echo "$n ${TYPE[$n]} $(inner "$n") $(public "$n")"; done ;;
        check)  [[ $# -eq 0 ]] || die "usage: natlab.sh check"; preflight; do_check ;;
        *)      die "unknown command '$cmd' (see --help)" ;;
    esac
}

trap 'exit 130' INT
trap 'exit 143' TERM
main "$@"
