// Certificates the TLS tests make for themselves with the openssl tool.
import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** A self-signed P-256 certificate for localhost in `dir`: {cert, key} (PEM file paths). */
export function selfSignedCertificate(dir, name = "cert") {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-days", "2", "-keyout", key, "-out", cert],
    { stdio: "ignore" });
  return { cert, key };
}
