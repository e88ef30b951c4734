# syntax=docker/dockerfile:1
# ppalm maker in team mode: one static binary (CGO_ENABLED=0) on distroless
# static, which holds CA certificates and tzdata, runs as the non-root user
# 65532 and has no shell. See README.md, "Team mode".
#
#   docker build -t ppalm-maker .
#   docker run -p 8080:8080 -e AZURE_CLIENT_SECRET -e PPALM_SESSION_KEYS ppalm-maker \
#     --public-url https://maker.contoso.com --repo https://dev.azure.com/contoso/ALM/_git/alm \
#     --tenant-id TENANT --client-id APP --environment dev=https://contoso-dev.crm.dynamics.com

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS=linux TARGETARCH=amd64
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags="-s -w" -o /out/ppalm ./cmd/ppalm

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ppalm /usr/local/bin/ppalm
USER 65532:65532
EXPOSE 8080
# The platform probes GET /healthz over HTTP (distroless has no shell for a
# HEALTHCHECK command). Arguments after the image name are maker's flags.
ENTRYPOINT ["/usr/local/bin/ppalm", "maker", "--listen", ":8080"]
