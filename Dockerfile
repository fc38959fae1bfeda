# Snorky in a container: built from this source tree into the Debian package,
# installed on Debian slim, run as the package's unprivileged `snorky` user.
#   docker build -t snorky .
#   docker run --rm -p 5800:5800 -p 5801:5801 -e SNORKY_BACKEND_KEY=change-me snorky
# Mount your own config over /etc/snorky/snorky.toml (and certificates) to change it.

FROM debian:12-slim AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config dpkg-dev file \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
      libtomlplusplus-dev libcli11-dev libjwt-dev libhiredis-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN rm -rf build \
    && cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DSNORKY_BUILD_TESTS=OFF -DSNORKY_BUILD_BENCH=OFF -DSNORKY_BUILD_EXAMPLES=OFF \
    && cmake --build build \
    && cd build && cpack

FROM debian:12-slim
COPY --from=build /src/build/packages/snorky_*.deb /tmp/
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/snorky_*.deb \
    && rm -rf /var/lib/apt/lists/* /tmp/*.deb /etc/snorky/snorky.env \
    # In a container the backend must be reachable from the other containers.
    && sed -i 's/^address = "127.0.0.1"/address = "0.0.0.0"/' /etc/snorky/snorky.toml
USER snorky
EXPOSE 5800 5801
# The backend key: pass SNORKY_BACKEND_KEY (without it one is generated and printed at start).
ENTRYPOINT ["/usr/bin/snorky"]
CMD ["--config", "/etc/snorky/snorky.toml"]
