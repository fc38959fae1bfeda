#pragma once
// A throwaway self-signed certificate for "localhost" (DNS name only, no IP),
// made by the openssl command-line tool in a fresh temp folder. Tests use it
// as both the server certificate and the client's trusted CA.
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace snorky::testing {

struct TestCertificate {
    std::string certFile;
    std::string keyFile;

    static TestCertificate make() {
        std::string dir = (std::filesystem::temp_directory_path() / "snorky-cert-XXXXXX").string();
        if (!mkdtemp(dir.data())) throw std::runtime_error("mkdtemp failed");
        TestCertificate cert{dir + "/cert.pem", dir + "/key.pem"};
        std::string command =
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost"
            " -addext subjectAltName=DNS:localhost -days 2 -keyout '" + cert.keyFile + "' -out '" + cert.certFile +
            "' >/dev/null 2>&1";
        if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl could not make a test certificate");
        return cert;
    }
};

}  // namespace snorky::testing
