#!/bin/sh
# Regenerates the test CA and the certificate of `idc.tobira.test` (and
# `*.tobira.test`) that tests/proxy.rs serves behind its CONNECT proxy.
# Valid from 2000 to 2125, so no machine's clock falls outside. Test
# material only: nothing outside the tests trusts this CA.
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
touch "$work/index"
cat > "$work/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $work/index
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
subjectAltName = DNS:idc.tobira.test,DNS:*.tobira.test
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
CNF
echo 01 > "$work/serial"
openssl ecparam -name prime256v1 -genkey -noout -out "$work/ca.key"
openssl req -new -key "$work/ca.key" -subj "/CN=tobira test CA" -out "$work/ca.csr"
openssl ca -batch -config "$work/ca.cnf" -selfsign -keyfile "$work/ca.key" -in "$work/ca.csr" \
  -startdate 20000101000000Z -enddate 21250101000000Z -extensions ca_ext -notext -out ca.pem
openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out idc.key
openssl req -new -key idc.key -subj "/CN=idc.tobira.test" -out "$work/idc.csr"
openssl ca -batch -config "$work/ca.cnf" -cert ca.pem -keyfile "$work/ca.key" -in "$work/idc.csr" \
  -startdate 20000101000000Z -enddate 21250101000000Z -extensions leaf_ext -notext -out idc.pem
