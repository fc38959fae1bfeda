// The `snorky` binary: reads the config (or the embedded default), builds the
// services and listeners, serves until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

#include "server/config.hpp"
#include "snorky/core/log.hpp"

using namespace snorky;

namespace {

// Overrides a listener option from the command line.
void override(server::Config& config, const char* type, const char* key, json::value value) {
    for (server::Entry& l : config.listeners) {
        if (l.type != type) continue;
        l.options = server::Options(l.options.with(key, std::move(value)), l.options.where());
        return;
    }
}

void writeReadyFile(const std::string& path, const std::vector<Endpoint>& endpoints) {
    json::array listeners;
    for (const Endpoint& e : endpoints)
        listeners.push_back(json::object{{"type", e.type}, {"registry", e.registry}, {"address", e.address},
                                         {"port", e.port}, {"path", e.path}, {"tls", e.tls}});
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp);
        out << json::serialize(json::object{{"listeners", listeners}, {"pid", static_cast<std::int64_t>(getpid())}});
    }
    std::filesystem::rename(tmp, path);  // atomic: readers never see half a file
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Snorky: a real-time server. Without --config it runs the embedded default\n"
                 "(WebSocket frontend on 0.0.0.0:5800/ws, HTTP backend on 127.0.0.1:5801/backend)."};
    std::string configPath, readyFile, logLevel, staticDir, engine;
    unsigned threads = 0;
    int port = -1, backendPort = -1;
    bool printDefault = false, check = false, followSymlinks = false;
    app.add_option("-c,--config", configPath, "TOML config file");
    app.add_option("--threads", threads, "I/O threads (0: one per core)");
    app.add_option("--log-level", logLevel, "debug, info, warn, error or off");
    app.add_option("--engine", engine, "\"memory\" or redis://host:port (overrides [server] engine)");
    app.add_option("--port", port, "Port of the first WebSocket listener")->check(CLI::Range(0, 65535));
    app.add_option("--backend-port", backendPort, "Port of the first backend listener")->check(CLI::Range(0, 65535));
    app.add_option("--static-dir", staticDir, "Serve this folder on the first WebSocket listener");
    app.add_flag("--static-follow-symlinks", followSymlinks,
                 "Also serve symlinks in the static folder that point out of it");
    app.add_option("--ready-file", readyFile, "Write the bound listeners as JSON here once serving");
    app.add_flag("--print-default-config", printDefault, "Print the embedded default config and exit");
    app.add_flag("--check", check, "Validate the config and exit");
    app.set_version_flag("--version", "snorky " SNORKY_VERSION " (" SNORKY_LICENSE " License)");
    CLI11_PARSE(app, argc, argv);

    if (printDefault) {
        std::cout << server::kDefaultConfig;
        return 0;
    }
    // The config file with the command line's overrides (at start and on SIGHUP).
    auto load = [&] {
        server::Config config = configPath.empty() ? server::parseConfig(server::kDefaultConfig, "<default config>")
                                                   : server::loadConfigFile(configPath);
        if (threads) config.threads = threads;
        if (!logLevel.empty()) config.logLevel = logLevel;
        if (!engine.empty()) {
            auto backlog = config.redis ? config.redis->maxBacklogBytes : RedisBrokerOptions{}.maxBacklogBytes;
            server::setEngine(config, engine, "--engine");
            if (config.redis) config.redis->maxBacklogBytes = backlog;
        }
        if (port >= 0) override(config, "websocket", "port", port);
        if (backendPort >= 0) override(config, "backend", "port", backendPort);
        if (!staticDir.empty()) override(config, "websocket", "static_dir", json::string(staticDir));
        if (followSymlinks) override(config, "websocket", "static_follow_symlinks", true);
        log::Level level;
        if (!log::parseLevel(config.logLevel, level)) throw server::ConfigError("--log-level: unknown level " + config.logLevel);
        return std::make_pair(std::move(config), level);
    };
    try {
        auto loaded = load();
        server::Config config = std::move(loaded.first);
        log::setLevel(loaded.second);

        std::string generatedKey;
        if (server::needsGeneratedKey(config)) generatedKey = server::randomKey();

        // --check validates without connecting to Redis.
        Server snorky(config.threads, check ? Engine{} : server::makeEngine(config));
        server::apply(config, snorky, server::ServiceFactory::builtin(), generatedKey);
        if (check) {
            std::cout << "config OK\n";
            return 0;
        }
        if (!generatedKey.empty()) {
            // Printed once on stdout for the operator; never written to the log.
            std::cout << "No backend key configured; generated one for this run:\n"
                      << "  SNORKY_BACKEND_KEY=" << generatedKey << "\n"
                      << "Set SNORKY_BACKEND_KEY (or key/key_file in the config) to choose your own." << std::endl;
        }
        // SIGHUP: the file is read again. A broken one changes nothing (the
        // error is logged with file and line). What can change while running
        // takes effect at once (log level, TLS certificates, listener limits
        // and origins, namespace tables...: docs/operations.md, "Reload");
        // everything else is logged as needing a restart and stays as it is.
        snorky.onHangup = [&] {
            try {
                auto [fresh, freshLevel] = load();
                server::ReloadOutcome outcome =
                    server::reload(config, fresh, snorky, server::ServiceFactory::builtin(), generatedKey);
                for (const std::string& line : outcome.restart) SNORKY_LOG(Warn, "reload: " << line);
                for (const std::string& line : outcome.applied) SNORKY_LOG(Info, "reload: " << line);
                if (freshLevel != log::level()) {
                    // Said at the old level or the new one, whichever shows it.
                    bool sayFirst = log::level() <= log::Level::Info;
                    if (sayFirst) SNORKY_LOG(Info, "reload: log_level is now " << fresh.logLevel);
                    log::setLevel(freshLevel);
                    if (!sayFirst) SNORKY_LOG(Info, "reload: log_level is now " << fresh.logLevel);
                }
            } catch (const server::ConfigError& error) {
                SNORKY_LOG(Error, "reload: config error, keeping the running config: " << error.what());
                return;
            }
            snorky.reloadCertificates();
            SNORKY_LOG(Info, "reload: finished");
        };
        snorky.onReady = [&] {
            if (!readyFile.empty()) writeReadyFile(readyFile, snorky.endpoints());
        };
        return snorky.run();
    } catch (const server::ConfigError& error) {
        std::cerr << "snorky: config error: " << error.what() << std::endl;
        return 78;  // EX_CONFIG
    } catch (const std::exception& error) {
        std::cerr << "snorky: " << error.what() << std::endl;
        return 1;
    }
}
