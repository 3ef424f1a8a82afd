# Build the manager as a static binary, then copy it alone into a distroless image that runs
# as a non-root user. The release tag leaves out what a checkout's build adds for developers
# (dev, the emulator, envtest, kustomize, the plugin interpreter). CI builds the same binary
# with the same flags (see .ci/run), since no container engine runs there.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -tags release -trimpath -ldflags '-s -w' -o /out/ftrack-operator .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ftrack-operator /ftrack-operator
USER 65532:65532
ENTRYPOINT ["/ftrack-operator"]
