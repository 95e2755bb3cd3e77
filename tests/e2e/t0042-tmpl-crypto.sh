# Sprig's crypto functions (core/tmpl/crypto.c) checked by independent
# implementations: Go's crypto/x509 parses and verifies the certificates
# and keys and decrypts encryptAES's output (and kedge decrypts Go's),
# libcrypt (through perl's crypt) checks bcrypt and htpasswd hashes. Then
# the errors: bad input to buildCustomCert, decryptAES and genPrivateKey,
# and the per-render limit on key generations and password hashes.
. tests/lib.sh

D=$TMP/out
mkdir -p "$D"
cat >"$TMP/render.lua" <<'L'
local tmpl = require "kedge.tmpl"
local dir, tpl = arg[1], arg[2]
local out, err = tmpl.render(tpl, {})
if not out then io.stderr:write(err, "\n") os.exit(1) end
-- sections "@@name\n" split the output into files
for name, body in out:gmatch("@@([%w%-%.]+)\n(.-)\n@@end\n") do
  local f = assert(io.open(dir .. "/" .. name, "wb"))
  f:write(body)
  f:close()
end
L
render() { "$KEDGE" lua "$TMP/render.lua" "$@"; }

TPL='{{- $ca := genCA "kedge-ca" 30 }}
@@ca.crt
{{ $ca.Cert }}
@@end
@@ca.key
{{ $ca.Key }}
@@end
{{- $c := genSignedCert "web.example" (list "10.0.0.1" "::1" "::ffff:192.0.2.7") (list "a.example" "b.example") 7 $ca }}
@@leaf.crt
{{ $c.Cert }}
@@end
@@leaf.key
{{ $c.Key }}
@@end
{{- $s := genSelfSignedCert "" nil (list "only.example") 1 }}
@@self.crt
{{ $s.Cert }}
@@end
{{- $ek := genPrivateKey "ecdsa" }}
@@ec.key
{{ $ek }}
@@end
{{- $eca := genCAWithKey "ec-ca" 10 $ek }}
@@ecca.crt
{{ $eca.Cert }}
@@end
{{- $el := genSignedCertWithKey "ec-leaf" nil nil 10 $eca (genPrivateKey "rsa") }}
@@ecleaf.crt
{{ $el.Cert }}
@@end
@@ecleaf.key
{{ $el.Key }}
@@end
@@ed.key
{{ genPrivateKey "ed25519" }}
@@end
@@custom
{{ (buildCustomCert ($ca.Cert | b64enc) ($ca.Key | b64enc)).Cert | eq $ca.Cert }}
@@end
@@aes
{{ encryptAES "k3dge-pass" "attack at dawn, twice over the wall" }}
@@end
@@aes-long-key
{{ encryptAES "0123456789abcdef0123456789abcdefTAIL" "x" }}
@@end
@@bcrypt
{{ bcrypt "s3cr3t" }}
@@end
@@htpasswd
{{ htpasswd "admin" "pa:ss word" }}
@@end
@@sha512
{{ sha512sum "abc" }}
@@end
@@rand
{{ randBytes 12 | b64dec | len }} {{ randInt 5 6 }}
@@end
@@derive
{{ derivePassword 1 "maximum" "password" "user" "example.com" }}
@@end
'
run render "$D" "$TPL"
is "$rc" 0 "a template calling every crypto function renders" "$err"
is "$(cat "$D/custom")" true "buildCustomCert returns the certificate it was given"
is "$(cat "$D/sha512")" ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f "sha512sum"
is "$(cat "$D/rand")" "12 5" "randBytes gives base64 of n bytes, randInt a number in [min, max)"

h=$(cat "$D/bcrypt")
like "$h" '^\$2a\$10\$[./A-Za-z0-9]{53}$' "bcrypt: version 2a, cost 10, salt and hash"
run perl -e 'print crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? "match" : "differ"' s3cr3t "$h"
is "$out" match "libcrypt accepts the bcrypt hash for the password"
run perl -e 'print crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? "match" : "differ"' s3cr3T "$h"
is "$out" differ "and rejects it for another password"
hp=$(cat "$D/htpasswd")
run perl -e 'print crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? "match" : "differ"' "pa:ss word" "${hp#admin:}"
is "${hp%%:*}:$out" "admin:match" "htpasswd: user, colon, bcrypt of the password"

# Go's standard library as the reference for certificates, keys and AES
mkdir -p "$TMP/gocheck"
cat >"$TMP/gocheck/main.go" <<'G'
package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

var dir = os.Args[1]

func block(name, typ string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		panic(err)
	}
	p, rest := pem.Decode(b)
	if p == nil || p.Type != typ || len(rest) != 0 {
		fmt.Printf("%s: not one PEM block of type %s\n", name, typ)
		os.Exit(1)
	}
	return p.Bytes
}

func cert(name string) *x509.Certificate {
	c, err := x509.ParseCertificate(block(name, "CERTIFICATE"))
	if err != nil {
		fmt.Printf("%s: %v\n", name, err)
		os.Exit(1)
	}
	return c
}

func check(ok bool, what string) {
	if ok {
		fmt.Println("ok", what)
	} else {
		fmt.Println("FAIL", what)
	}
}

func verify(leaf, root *x509.Certificate, dns string) error {
	pool := x509.NewCertPool()
	pool.AddCert(root)
	_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: dns,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

func aesDecrypt(pass, b64 string) string {
	key := make([]byte, 32)
	copy(key, pass)
	c, _ := base64.StdEncoding.DecodeString(b64)
	b, _ := aes.NewCipher(key)
	out := make([]byte, len(c)-16)
	cipher.NewCBCDecrypter(b, c[:16]).CryptBlocks(out, c[16:])
	return string(out[:len(out)-int(out[len(out)-1])])
}

func main() {
	if len(os.Args) > 2 { // encrypt as Sprig does, with a fixed IV
		key := make([]byte, 32)
		copy(key, os.Args[2])
		b, _ := aes.NewCipher(key)
		pt := []byte(os.Args[3])
		pad := 16 - len(pt)%16
		for i := 0; i < pad; i++ {
			pt = append(pt, byte(pad))
		}
		ct := make([]byte, 16+len(pt))
		copy(ct, "0123456789abcdef")
		cipher.NewCBCEncrypter(b, ct[:16]).CryptBlocks(ct[16:], pt)
		fmt.Print(base64.StdEncoding.EncodeToString(ct))
		return
	}
	ca, leaf, self := cert("ca.crt"), cert("leaf.crt"), cert("self.crt")
	check(ca.IsCA && ca.BasicConstraintsValid && ca.Subject.CommonName == "kedge-ca", "genCA: a CA named by its CN")
	check(ca.KeyUsage == x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment, "genCA: key usage")
	check(len(ca.SubjectKeyId) == 20, "genCA: subject key id")
	d := ca.NotAfter.Sub(ca.NotBefore)
	check(d == 30*24*time.Hour && time.Since(ca.NotBefore) < time.Hour, "genCA: valid from now for 30 days")
	check(ca.PublicKey.(*rsa.PublicKey).N.BitLen() == 2048, "genCA: RSA-2048")
	check(ca.CheckSignature(ca.SignatureAlgorithm, ca.RawTBSCertificate, ca.Signature) == nil, "genCA: self-signed")
	k, err := x509.ParsePKCS1PrivateKey(block("ca.key", "RSA PRIVATE KEY"))
	check(err == nil && k.PublicKey.Equal(ca.PublicKey), "genCA: the key is the certificate's, PKCS#1")
	check(verify(leaf, ca, "b.example") == nil, "genSignedCert: verifies against the CA for a DNS name")
	check(verify(leaf, ca, "10.0.0.1") == nil, "genSignedCert: and for an IP address")
	check(len(leaf.IPAddresses) == 3 && leaf.IPAddresses[1].Equal(net.ParseIP("::1")) &&
		len(leaf.IPAddresses[2]) == 4 && len(leaf.DNSNames) == 2, "genSignedCert: IPs (v4-mapped as 4 bytes) and DNS names")
	check(!leaf.IsCA && leaf.BasicConstraintsValid && len(leaf.ExtKeyUsage) == 2, "genSignedCert: a leaf for server and client auth")
	check(string(leaf.AuthorityKeyId) == string(ca.SubjectKeyId), "genSignedCert: authority key id is the CA's")
	check(leaf.NotAfter.Sub(leaf.NotBefore) == 7*24*time.Hour, "genSignedCert: 7 days")
	lk, err := x509.ParsePKCS1PrivateKey(block("leaf.key", "RSA PRIVATE KEY"))
	check(err == nil && lk.PublicKey.Equal(leaf.PublicKey), "genSignedCert: its own key")
	check(self.Subject.CommonName == "" && len(self.DNSNames) == 1 && verify(self, self, "only.example") == nil,
		"genSelfSignedCert: empty subject, alternative name, self-signed")
	ek, err := x509.ParseECPrivateKey(block("ec.key", "EC PRIVATE KEY"))
	check(err == nil && ek.Curve.Params().Name == "P-256", "genPrivateKey ecdsa: P-256, SEC 1")
	eca := cert("ecca.crt")
	check(eca.PublicKey.(*ecdsa.PublicKey).Equal(&ek.PublicKey) && eca.SignatureAlgorithm == x509.ECDSAWithSHA256,
		"genCAWithKey: the given key, ECDSA-SHA256")
	el := cert("ecleaf.crt")
	check(verify(el, eca, "") == nil, "genSignedCertWithKey: verifies against an ECDSA CA")
	elk, err := x509.ParsePKCS1PrivateKey(block("ecleaf.key", "RSA PRIVATE KEY"))
	check(err == nil && elk.N.BitLen() == 4096 && elk.PublicKey.Equal(el.PublicKey), "genPrivateKey rsa: 4096 bits, the leaf's key")
	edk, err := x509.ParsePKCS8PrivateKey(block("ed.key", "PRIVATE KEY"))
	_, isEd := edk.(ed25519.PrivateKey)
	check(err == nil && isEd, "genPrivateKey ed25519: PKCS#8")
	aesb, _ := os.ReadFile(filepath.Join(dir, "aes"))
	check(aesDecrypt("k3dge-pass", string(aesb)) == "attack at dawn, twice over the wall", "encryptAES: Go decrypts it")
	aesl, _ := os.ReadFile(filepath.Join(dir, "aes-long-key"))
	check(aesDecrypt("0123456789abcdef0123456789abcdef", string(aesl)) == "x", "encryptAES: a long password is cut to 32 bytes")
}
G
export GOCACHE=$TMP/gocache GOPATH=$TMP/gopath GOFLAGS=-mod=mod GO111MODULE=off
if (cd "$TMP/gocheck" && go build -o check . ) >"$TMP/gobuild.log" 2>&1; then
	"$TMP/gocheck/check" "$D" >"$TMP/go.out" 2>&1
	while read -r res what; do
		[ "$res" = ok ]
		tap_report $? "Go: $what"
	done < <(grep -E '^(ok|FAIL) ' "$TMP/go.out")
	ok "Go checked all it was asked to" test "$(grep -c '^ok' "$TMP/go.out")" = 22
	[ "$(grep -c '^ok' "$TMP/go.out")" = 22 ] || cat "$TMP/go.out" | sed 's/^/#   /'
	ct=$("$TMP/gocheck/check" "$D" "pässwort" "from Go, with love")
	run render "$D" "@@dec
{{ decryptAES \"pässwort\" \"$ct\" }}
@@end
"
	is "$(cat "$D/dec")" "from Go, with love" "decryptAES reads what Go's AES-CBC wrote"
else
	tap_report 1 "go build of the checker" "$(cat "$TMP/gobuild.log")"
fi

run render "$D" '{{ buildCustomCert "%s" "%s" }}'
like "$err" 'error calling buildCustomCert: unable to decode base64 certificate' "buildCustomCert: bad base64 is an error"
run render "$D" '{{ buildCustomCert ("not a cert" | b64enc) ("x" | b64enc) }}'
like "$err" 'error calling buildCustomCert: unable to decode certificate' "buildCustomCert: no PEM is an error"
run render "$D" '{{ decryptAES "k" "!!" }}'
like "$err" 'error calling decryptAES: illegal base64 data at input byte 0' "decryptAES: bad base64 is an error"
run render "$D" '{{ decryptAES "k" ("short" | b64enc) }}'
like "$err" 'error calling decryptAES: ' "decryptAES: a text shorter than the IV is an error"
run render "$D" '@@u
{{ genPrivateKey "rsa3" }} {{ derivePassword 1 "nope" "p" "u" "s" }} {{ htpasswd "a:b" "p" }}
@@end
'
is "$(cat "$D/u")" "Unknown type rsa3 cannot find password template nope invalid username: a:b" "Sprig's messages in place of errors"
run render "$D" '{{ genPrivateKey "dsa" }}'
like "$err" 'genPrivateKey: dsa keys are not supported by kedge' "genPrivateKey dsa names what kedge lacks"
run render "$D" '{{ genSignedCert "x" nil nil 1 (dict "Cert" "a" "Key" "b") }}'
like "$err" 'wrong type for value; expected sprig.certificate; got map' "genSignedCert wants a certificate, as in Go"
run render "$D" '{{ range until 65 }}{{ bcrypt "x" | len }}{{ end }}'
like "$err" 'more than 64 key generations or password hashes in one render' "65 password hashes exceed the per-render limit"
is "$out" "" "and nothing is printed"

done_testing
