/**
 * One cloud assembly from several CDK Apps synthesized into the same directory, one after the
 * other: the first App (the platform stacks) and then batches of tenant stacks (synth.ts).
 *
 * Each App writes its stacks' own files (`<stack>.template.json`, `.assets.json`,
 * `.metadata.json`) beside the others, and its own manifest.json and tree.json over the previous
 * ones. After each batch this reads the batch's manifest and tree, keeps its stacks' artifacts and
 * construct subtrees, and at the end writes the manifest and tree one App of all the stacks
 * would have written: artifacts and tree children in construct order, the App-wide artifacts
 * (construct tree, feature flag report) last, each stack's dependencies on stacks of other Apps
 * added by name. The tree is streamed to disk batch by batch, never held whole.
 */
import { closeSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { TenkaiError } from "../shared/errors.js";

interface Artifact {
  readonly type: string;
  dependencies?: string[];
  [key: string]: unknown;
}

interface AssemblyManifest {
  readonly artifacts: Record<string, Artifact>;
  readonly [key: string]: unknown;
}

interface TreeNode {
  readonly id: string;
  readonly children?: Record<string, TreeNode>;
  readonly [key: string]: unknown;
}

interface TreeFile {
  readonly tree: TreeNode;
  readonly [key: string]: unknown;
}

/** Artifacts that describe the whole App, not a stack: written once, after every stack's. */
const APP_WIDE = new Set(["cdk:tree", "cdk:feature-flag-report"]);
/** The construct the construct tree itself is (a child of the App, after the stacks). */
const TREE_CONSTRUCT = "Tree";
const PARTIAL = "tree.json.partial";

export class AssemblyMerge {
  private readonly manifest: AssemblyManifest;
  private readonly stackArtifacts: [string, Artifact][];
  private readonly tree: TreeFile;
  private readonly treeFd: number;
  private readonly treeTail: string;

  /** Takes over the assembly the first App wrote in `dir`. */
  constructor(private readonly dir: string) {
    this.manifest = readJson<AssemblyManifest>(join(dir, "manifest.json"));
    this.stackArtifacts = Object.entries(this.manifest.artifacts).filter(([, a]) => !APP_WIDE.has(a.type));
    this.tree = readJson<TreeFile>(join(dir, "tree.json"));
    // The tree file with the App's children cut out: what comes before them and after.
    const cut = "\u0000children\u0000";
    const [head, tail] = JSON.stringify({ ...this.tree, tree: { ...this.tree.tree, children: cut } }).split(
      JSON.stringify(cut),
    );
    if (head === undefined || tail === undefined) throw internal("cannot cut the construct tree's children");
    this.treeTail = tail;
    this.treeFd = openSync(join(dir, PARTIAL), "w");
    writeSync(this.treeFd, `${head}{`);
    this.writeChildren(this.tree, true);
  }

  /**
   * Takes the stacks of the App just synthesized into the directory; `dependencies` names, by
   * artifact id, the stacks of other Apps each of its stacks is deployed after.
   */
  addBatch(dependencies: ReadonlyMap<string, readonly string[]>): void {
    const batch = readJson<AssemblyManifest>(join(this.dir, "manifest.json"));
    const extra = Object.keys(batch).filter(
      (k) => !["version", "artifacts", "minimumCliVersion"].includes(k),
    );
    if (extra.length > 0) throw internal(`a tenant stack batch's manifest has ${extra.join(", ")}`);
    for (const [id, artifact] of Object.entries(batch.artifacts)) {
      if (APP_WIDE.has(artifact.type)) continue;
      const before = dependencies.get(id);
      if (before) artifact.dependencies = [...before, ...(artifact.dependencies ?? [])];
      this.stackArtifacts.push([id, artifact]);
    }
    this.writeChildren(readJson<TreeFile>(join(this.dir, "tree.json")), false);
  }

  /** Writes the merged manifest.json and tree.json. */
  finish(): void {
    const tree = this.tree.tree.children?.[TREE_CONSTRUCT];
    if (tree) writeSync(this.treeFd, `,${JSON.stringify(TREE_CONSTRUCT)}:${JSON.stringify(tree)}`);
    writeSync(this.treeFd, `}${this.treeTail}`);
    closeSync(this.treeFd);
    renameSync(join(this.dir, PARTIAL), join(this.dir, "tree.json"));
    const appWide = Object.entries(this.manifest.artifacts).filter(([, a]) => APP_WIDE.has(a.type));
    // As Manifest.saveAssemblyManifest writes it (cloud-assembly-schema).
    writeFileSync(
      join(this.dir, "manifest.json"),
      JSON.stringify(
        { ...this.manifest, artifacts: Object.fromEntries([...this.stackArtifacts, ...appWide]) },
        undefined,
        2,
      ),
    );
  }

  /** The App's children but the tree construct, as members of the tree's children object. */
  private writeChildren(file: TreeFile, first: boolean): void {
    let sep = first ? "" : ",";
    for (const [id, node] of Object.entries(file.tree.children ?? {})) {
      if (id === TREE_CONSTRUCT) continue;
      // A tree past @aws-cdk/core.TreeMetadata:maxNodes is split into trees-N.json files that
      // this merge does not follow; a batch is far below the 500,000-node default.
      if ("fileName" in node)
        throw internal(`the construct tree of ${id} was split into ${String(node.fileName)}`);
      writeSync(this.treeFd, `${sep}${JSON.stringify(id)}:${JSON.stringify(node)}`);
      sep = ",";
    }
  }
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

function internal(message: string): TenkaiError {
  return new TenkaiError(
    "AWS_ASSEMBLY_MERGE",
    `cannot merge the tenant stacks into one cloud assembly: ${message}`,
    "lower stacksPerBatch, or report this with the spec that caused it",
  );
}
