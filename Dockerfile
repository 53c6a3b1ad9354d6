# Multi-stage build: compile a static binary, ship it on a minimal image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/checkout .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/checkout /checkout
EXPOSE 8080 8081
USER nonroot:nonroot
ENTRYPOINT ["/checkout"]
