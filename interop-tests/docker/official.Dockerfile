# An image for the container tests built from an official `erlang` image,
# for machines that can pull from a registry (the tests' default is an image
# assembled from this host's OTP installs, which needs no registry).
#
#   docker build --build-arg OTP=28 -t cnode-erlang:28 -f interop-tests/docker/official.Dockerfile interop-tests/docker
#   CNODE_CONTAINER_IMAGE_OTP28=cnode-erlang:28 cargo test -p interop-tests --test containers
#
# The slow-link scenario needs `tc` and `iptables`, which the official
# images lack; everything else runs on `erlang:NN` as is.
ARG OTP=28
FROM erlang:${OTP}-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iproute2 iptables \
 && rm -rf /var/lib/apt/lists/*
