#!/bin/sh
# clawdie-docker-vm.sh: a Linux VM under bhyve (managed with vm-bhyve) that runs
# the Docker Engine for clawdie's docker sandbox backend, with the Engine API on
# TCP port 2376 behind mutual TLS. See README.md here for the whole procedure.
#
# Usage:
#   clawdie-docker-vm.sh certs DIR VM_ADDR
#       Creates a private CA and, signed by it: Docker's server certificate for
#       VM_ADDR, a Docker client certificate for clawdie-broker, and the gRPC
#       certificates for the second shape (broker in the VM): a server certificate
#       for the broker at VM_ADDR and a client certificate for the router.
#       Refuses to overwrite an existing DIR/ca.pem.
#   clawdie-docker-vm.sh create NAME [DISK_SIZE] [SSH_PUBKEY]
#       Creates the VM with vm-bhyve from a Debian 12 cloud image with
#       cloud-init (default disk 20G, key ~/.ssh/id_ed25519.pub).
#   clawdie-docker-vm.sh provision VM_ADDR DIR [HOST_ADDR]
#       Over ssh (user debian): installs docker.io, installs the server
#       certificate, makes dockerd listen on tcp://0.0.0.0:2376 with --tlsverify
#       and firewalls 2376 (and 7443 for the broker) to HOST_ADDR only
#       (default: the first address of this host's default route interface).
#   clawdie-docker-vm.sh env DIR VM_ADDR
#       Prints the clawdie.conf lines for both shapes.
#
# Environment: VM_DIR overrides vm-bhyve's vm_dir (default: sysrc -n vm_dir);
# CERT_DAYS the certificate lifetime (default 825).
set -eu

cert_days="${CERT_DAYS:-825}"

die() {
	echo "clawdie-docker-vm: $*" >&2
	exit 1
}

usage() {
	sed -n '6,25p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# new_key FILE: an EC P-256 private key, readable by its owner only.
new_key() {
	(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1")
}

# sign DIR NAME SUBJECT USAGE [SAN]: DIR/NAME-key.pem and DIR/NAME-cert.pem signed by DIR/ca.
sign() {
	dir="$1" name="$2" subject="$3" usage="$4" san="${5:-}"
	new_key "$dir/$name-key.pem"
	openssl req -new -key "$dir/$name-key.pem" -subj "$subject" -out "$dir/$name.csr"
	{
		echo "extendedKeyUsage = $usage"
		echo "keyUsage = digitalSignature, keyEncipherment"
		echo "basicConstraints = CA:FALSE"
		if [ -n "$san" ]; then
			echo "subjectAltName = $san"
		fi
	} >"$dir/$name.ext"
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" \
		-CAcreateserial -days "$cert_days" -sha256 -extfile "$dir/$name.ext" \
		-out "$dir/$name-cert.pem" 2>/dev/null
	rm -f "$dir/$name.csr" "$dir/$name.ext"
}

# san_for ADDR: an IP or DNS subjectAltName entry.
san_for() {
	case "$1" in
	*[!0-9.]*) echo "DNS:$1" ;;
	*) echo "IP:$1" ;;
	esac
}

cmd_certs() {
	[ $# -eq 2 ] || usage
	dir="$1" addr="$2"
	[ ! -e "$dir/ca.pem" ] || die "certs $dir: ca.pem exists; move it away to make a new CA"
	mkdir -p "$dir"
	chmod 0700 "$dir"
	san="$(san_for "$addr"),DNS:localhost"

	new_key "$dir/ca-key.pem"
	openssl req -new -x509 -key "$dir/ca-key.pem" -subj "/CN=clawdie private CA" \
		-days "$cert_days" -sha256 -out "$dir/ca.pem"
	sign "$dir" docker-server "/CN=clawdie docker $addr" serverAuth "$san"
	sign "$dir" docker-client "/CN=clawdie-broker docker client" clientAuth
	sign "$dir" broker-server "/CN=clawdie-broker $addr" serverAuth "$san"
	sign "$dir" router-client "/CN=clawdie-router" clientAuth

	# Docker's client reads DOCKER_CERT_PATH/{ca,cert,key}.pem.
	mkdir -p "$dir/docker-client"
	cp "$dir/ca.pem" "$dir/docker-client/ca.pem"
	cp "$dir/docker-client-cert.pem" "$dir/docker-client/cert.pem"
	(umask 077 && cp "$dir/docker-client-key.pem" "$dir/docker-client/key.pem")
	echo "certificates in $dir; keep ca-key.pem offline once you are done"
}

vm_dir() {
	if [ -n "${VM_DIR:-}" ]; then
		echo "$VM_DIR"
	else
		sysrc -n vm_dir | sed 's/^zfs://'
	fi
}

cmd_create() {
	if [ $# -lt 1 ] || [ $# -gt 3 ]; then usage; fi
	name="$1" size="${2:-20G}" pubkey="${3:-$HOME/.ssh/id_ed25519.pub}"
	command -v vm >/dev/null 2>&1 || die "create $name: vm-bhyve is not installed (pkg install vm-bhyve)"
	[ -r "$pubkey" ] || die "create $name: cannot read ssh public key $pubkey"
	templates="$(vm_dir)/.templates"
	[ -d "$templates" ] || die "create $name: $templates missing; run vm init first"

	cat >"$templates/clawdie-docker.conf" <<'TEMPLATE'
# vm-bhyve template for the clawdie Docker VM (written by clawdie-docker-vm.sh).
loader="uefi"
cpu=2
memory=4G
network0_type="virtio-net"
network0_switch="clawdie"
disk0_type="virtio-blk"
disk0_name="disk0.img"
TEMPLATE
	image="debian-12-genericcloud-amd64.qcow2"
	if [ ! -e "$(vm_dir)/.img/$image" ]; then
		vm img "https://cloud.debian.org/images/cloud/bookworm/latest/$image"
	fi
	vm create -t clawdie-docker -s "$size" -i "$image" -C -k "$pubkey" "$name"
	vm start "$name"
	echo "VM $name started; find its address with: vm info $name, or your DHCP leases"
}

default_host_addr() {
	if command -v route >/dev/null 2>&1 && route -n get default >/dev/null 2>&1; then
		iface="$(route -n get default | awk '/interface:/ {print $2}')"
		ifconfig "$iface" | awk '/inet / {print $2; exit}'
	else
		ip -4 route get 1.1.1.1 | awk '{for (i = 1; i < NF; i++) if ($i == "src") print $(i + 1)}'
	fi
}

cmd_provision() {
	if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
	addr="$1" dir="$2" host="${3:-$(default_host_addr)}"
	[ -n "$host" ] || die "provision $addr: cannot tell this host's address; pass HOST_ADDR"
	for file in ca.pem docker-server-cert.pem docker-server-key.pem; do
		[ -r "$dir/$file" ] || die "provision $addr: $dir/$file missing; run certs first"
	done
	target="debian@$addr"

	scp "$dir/ca.pem" "$dir/docker-server-cert.pem" "$dir/docker-server-key.pem" "$target:"
	# shellcheck disable=SC2087 # $host is meant to expand here, on this side.
	ssh "$target" sudo sh -eu <<REMOTE
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io nftables
install -d -m 0700 /etc/docker/tls
install -m 0644 ca.pem /etc/docker/tls/ca.pem
install -m 0644 docker-server-cert.pem /etc/docker/tls/server-cert.pem
install -m 0600 docker-server-key.pem /etc/docker/tls/server-key.pem
rm -f ca.pem docker-server-cert.pem docker-server-key.pem
cat >/etc/docker/daemon.json <<'JSON'
{
  "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"],
  "tlsverify": true,
  "tlscacert": "/etc/docker/tls/ca.pem",
  "tlscert": "/etc/docker/tls/server-cert.pem",
  "tlskey": "/etc/docker/tls/server-key.pem"
}
JSON
# daemon.json sets the hosts, so the unit must not pass -H as well.
mkdir -p /etc/systemd/system/docker.service.d
printf '[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd --containerd=/run/containerd/containerd.sock\n' \
  >/etc/systemd/system/docker.service.d/clawdie.conf
cat >/etc/nftables.conf <<NFT
table inet clawdie {
  chain input {
    type filter hook input priority 0; policy accept;
    meta nfproto ipv4 tcp dport { 2375, 2376, 7443 } ip saddr != $host drop
    meta nfproto ipv6 tcp dport { 2375, 2376, 7443 } drop
  }
}
NFT
systemctl enable --now nftables
systemctl daemon-reload
systemctl restart docker
REMOTE
	echo "dockerd on $addr listens on 2376 with TLS, reachable from $host only"
}

cmd_env() {
	[ $# -eq 2 ] || usage
	dir="$1" addr="$2"
	cat <<ENV
# Shape 1: the broker on the host drives Docker in the VM.
# Copy $dir/docker-client to /usr/local/etc/clawdie/docker (mode 0750, owner clawdie).
CLAWDIE_SANDBOX=docker
DOCKER_HOST=tcp://$addr:2376
DOCKER_TLS_VERIFY=1
DOCKER_CERT_PATH=/usr/local/etc/clawdie/docker

# Shape 2: the broker runs in the VM (with the local Docker socket) and the
# router reaches it over gRPC with mutual TLS.
# On the VM (broker's clawdie.conf), with broker-server-*.pem and ca.pem copied there:
#   CLAWDIE_SANDBOX=docker
#   CLAWDIE_TLS_CERT=/etc/clawdie/tls/broker-server-cert.pem
#   CLAWDIE_TLS_KEY=/etc/clawdie/tls/broker-server-key.pem
#   CLAWDIE_TLS_CA=/etc/clawdie/tls/ca.pem
#   and start it with --listen 0.0.0.0:7443
# On the host (router's clawdie.conf):
CLAWDIE_BROKER_ADDR=$addr:7443
CLAWDIE_TLS_CERT=/usr/local/etc/clawdie/tls/router-client-cert.pem
CLAWDIE_TLS_KEY=/usr/local/etc/clawdie/tls/router-client-key.pem
CLAWDIE_TLS_CA=/usr/local/etc/clawdie/tls/ca.pem
ENV
}

[ $# -ge 1 ] || usage
command="$1"
shift
case "$command" in
certs) cmd_certs "$@" ;;
create) cmd_create "$@" ;;
provision) cmd_provision "$@" ;;
env) cmd_env "$@" ;;
*) usage ;;
esac
