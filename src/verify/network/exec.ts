/**
 * Runs a command in a pod's container through the API server's exec subresource (the apiserver
 * proxies to the node's kubelet, which asks the container runtime): what `kubectl exec` does.
 */
import { Writable } from "node:stream";
import { Exec, type KubeConfig, type V1Status } from "@kubernetes/client-node";

export interface ExecResult {
  /** The command's exit code; undefined when the exec itself failed (see `error`). */
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** Why the command could not be run (connection, pod gone, timeout). */
  readonly error?: string;
}

export type PodExec = (
  namespace: string,
  pod: string,
  container: string,
  command: readonly string[],
  timeoutMs: number,
) => Promise<ExecResult>;

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(Buffer.from(chunk));
        cb();
      },
    }),
    text: () => Buffer.concat(chunks).toString("utf8"),
  };
}

/**
 * Exit code from the exec status (the kubelet's `V1Status`: `Success`, or `Failure` with reason
 * `NonZeroExitCode` and the code in `details.causes[reason=ExitCode]`).
 */
export function exitCodeOf(status: V1Status): number | undefined {
  if (status.status === "Success") return 0;
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
  return cause?.message !== undefined ? Number(cause.message) : undefined;
}

export function podExec(kubeConfig: KubeConfig): PodExec {
  const exec = new Exec(kubeConfig);
  return (namespace, pod, container, command, timeoutMs) =>
    new Promise<ExecResult>((resolve) => {
      const out = collector();
      const err = collector();
      let settled = false;
      let socket: { close(): void } | undefined;
      const finish = (r: ExecResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket?.close();
        resolve(r);
      };
      const timer = setTimeout(
        () =>
          finish({
            exitCode: undefined,
            stdout: out.text(),
            stderr: err.text(),
            error: `exec timed out after ${timeoutMs} ms`,
          }),
        timeoutMs,
      );
      exec
        .exec(namespace, pod, container, [...command], out.stream, err.stream, null, false, (status) => {
          const code = exitCodeOf(status);
          // Let the last stdout frames land before reading them.
          setImmediate(() =>
            finish({
              exitCode: code,
              stdout: out.text(),
              stderr: err.text(),
              ...(code === undefined ? { error: status.message ?? "exec failed" } : {}),
            }),
          );
        })
        .then((ws) => {
          socket = ws;
          if (settled) ws.close();
        })
        .catch((e: unknown) =>
          finish({
            exitCode: undefined,
            stdout: "",
            stderr: "",
            error: e instanceof Error ? e.message : String(e),
          }),
        );
    });
}
