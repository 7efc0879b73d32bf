package io.crmpi.store;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * The image of one node tree inside a global checkpoint.
 *
 * @param node the node's name (its host name in Slurm mode, "local" in local mode)
 * @param imageDir the directory of the engine's image files, relative to the
 *     epoch directory (e.g. "nodes/local/image")
 * @param files every file of imageDir with size and digest
 * @param workdirDir where the snapshot of the job's working directory is,
 *     relative to the epoch directory, or null when this node took none
 * @param workdir the absolute path of the working directory the snapshot
 *     was taken of, or null
 * @param workdirFiles every file of the snapshot, relative to workdirDir
 * @param attributes engine data needed for the restore (e.g. the pipes of
 *     the tree's stdout and stderr and its external mounts)
 * @param written the files of the working directory that this node's tree
 *     wrote, in their state at the checkpoint; null in manifests written
 *     before crmpi tracked them (their snapshot then holds every file of the
 *     directory, and a restore puts back only those)
 */
public record NodeImage(
    String node,
    String imageDir,
    List<FileDigest> files,
    String workdirDir,
    String workdir,
    List<FileDigest> workdirFiles,
    Map<String, String> attributes,
    WorkdirRecord written) {
  public NodeImage {
    Objects.requireNonNull(node, "node");
    if (!node.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("node name must be [A-Za-z0-9._-]+: " + node);
    }
    Objects.requireNonNull(imageDir, "imageDir");
    files = List.copyOf(files);
    workdirFiles = workdirFiles == null ? List.of() : List.copyOf(workdirFiles);
    for (FileDigest f : workdirFiles) {
      if (!f.digested()) {
        throw new IllegalArgumentException("working-directory file " + f.path() + " has no sha256");
      }
    }
    attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
    if ((workdirDir == null) != (workdir == null)) {
      throw new IllegalArgumentException("workdirDir and workdir go together: " + workdirDir + ", " + workdir);
    }
    if (written != null) {
      if (workdirDir == null) {
        throw new IllegalArgumentException("written files recorded without a workdirDir");
      }
      Map<String, FileDigest> copies = new java.util.HashMap<>();
      workdirFiles.forEach(f -> copies.put(f.path(), f));
      for (WrittenFile f : written.files()) {
        FileDigest copy = copies.remove(f.path());
        boolean copied = f.state() == WrittenFile.State.COPY;
        if (copied != (copy != null)
            || copied && (copy.size() != f.size() || !copy.sha256().equals(f.sha256()))) {
          throw new IllegalArgumentException("written file " + f.path() + " (" + f.state()
              + ") does not match the snapshot's files");
        }
      }
      if (!copies.isEmpty()) {
        throw new IllegalArgumentException("snapshot files not among the written files: " + copies.keySet());
      }
    }
  }

  /** An image without a record of written files (engines' tests, and manifests of earlier versions). */
  public NodeImage(String node, String imageDir, List<FileDigest> files, String workdirDir, String workdir,
      List<FileDigest> workdirFiles, Map<String, String> attributes) {
    this(node, imageDir, files, workdirDir, workdir, workdirFiles, attributes, null);
  }

  /**
   * The attribute with the number of processes of the tree when it was
   * dumped (engines that restore processes record it): a restored tree
   * must have as many to be healthy.
   */
  public static final String ATTR_PROCESSES = "processes";

  /** The number of processes in the image, when the engine recorded it. */
  public static OptionalInt processes(Map<String, String> attributes) {
    String n = attributes.get(ATTR_PROCESSES);
    if (n == null || !n.matches("[0-9]{1,9}")) {
      return OptionalInt.empty();
    }
    return OptionalInt.of(Integer.parseInt(n));
  }

  /**
   * Whether every image file's SHA-256 is known: false between the commit
   * of an epoch and its seal (crmpid digests the image after the commit),
   * and for good when the seal never came. Only a sealed image is restored.
   */
  public boolean sealed() {
    return files.stream().allMatch(FileDigest::digested);
  }

  /** The same image with its sealed files and attributes (the seal's answer). */
  public NodeImage sealedAs(List<FileDigest> sealedFiles, Map<String, String> sealedAttributes) {
    return new NodeImage(node, imageDir, sealedFiles, workdirDir, workdir, workdirFiles, sealedAttributes, written);
  }

  /** Total bytes of the image files and the working-directory snapshot. */
  public long totalBytes() {
    return files.stream().mapToLong(FileDigest::size).sum()
        + workdirFiles.stream().mapToLong(FileDigest::size).sum();
  }
}
