# winnow in a container: keeps the git work tree mounted at /workspace committed.
#
#   docker build -t winnow .
#   docker run -d --name winnow --user "$(id -u):$(id -g)" \
#     -e GIT_AUTHOR_NAME="Your Name" -e GIT_AUTHOR_EMAIL=you@example.com \
#     -e GIT_COMMITTER_NAME="Your Name" -e GIT_COMMITTER_EMAIL=you@example.com \
#     -v "$PWD":/workspace winnow
#
# Runs as a non-root user by default. fanotify writer attribution (layer 2's exact evidence) is an
# opt-in: it needs root inside the container plus CAP_SYS_ADMIN, e.g.
#   docker run --user 0 --cap-add SYS_ADMIN ...
# and sees only writers in the container's PID namespace (add --pid=host to see the host's).
# Without it, --cap-add SYS_PTRACE lets winnow trace agents started with `winnow exec` (strace);
# without either, declared writes (`winnow hook`) and then open-handle and timing evidence.
# See packaging/README.md.

# ---- build: compile TypeScript with the dev dependencies, then drop them --------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; @parcel/watcher ships
# prebuilt binaries and only compiles from source when asked to.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# ---- runtime -----------------------------------------------------------------------------------
FROM node:20-bookworm-slim
# git: the committer; git-lfs: commits LFS-tracked paths through their filter; strace: traces
# autonomous processes without root (the ptrace rung; needs --cap-add SYS_PTRACE in a container);
# fatrace, forkstat: fanotify writer trace and process lineage (used only with the opt-in above);
# tini: PID 1 that forwards SIGTERM (winnow finishes the batch in flight) and reaps git children.
# safe.directory: the mounted work tree is usually owned by a host uid that is not the container's
# user; without it git refuses the repository as "dubious ownership".
RUN apt-get update \
 && apt-get install -y --no-install-recommends git git-lfs strace fatrace forkstat tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && git config --system --add safe.directory /workspace
WORKDIR /opt/winnow
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY rules ./rules
COPY bench/scenarios ./bench/scenarios
COPY bench/players ./bench/players
RUN ln -s /opt/winnow/bin/winnow.js /usr/local/bin/winnow

# Non-root by default (the image's `node` user, uid 1000); override with --user to match the owner
# of the mounted workspace. HOME points somewhere writable for any uid so git can read its config.
USER node
ENV HOME=/tmp NODE_ENV=production
VOLUME /workspace
WORKDIR /workspace

# Healthy while the daemon for /workspace reports itself running.
HEALTHCHECK --interval=60s --timeout=15s --start-period=60s --retries=3 \
  CMD winnow status /workspace --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{process.exit(JSON.parse(s).running===true?0:1)}catch{process.exit(1)}})'

# SIGTERM lets the batch in flight finish; give it more than commit.timeoutMs (30 s):
#   docker stop -t 60 winnow
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "winnow"]
CMD ["start", "/workspace"]
