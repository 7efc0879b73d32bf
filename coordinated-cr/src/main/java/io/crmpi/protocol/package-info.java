/**
 * The messages of crmpi's checkpoint protocol, one epoch at a time:
 *
 * <pre>
 * coordinator                          node agent (one per node)
 *   Prepare(epoch)            ───────►  quiesce (libcrmpi) or freeze the node tree
 *                             ◄───────  Prepared | Failed
 *   (every node prepared)
 *   Dump(epoch, dir)          ───────►  engine dumps the frozen tree into dir and
 *                                       snapshots the working directory
 *                             ◄───────  Dumped | Failed
 *   (every node dumped: the cut is complete)
 *   Resume(epoch) [not for a vacate] ─►  thaw: the ranks run while the image syncs
 *                             ◄───────  Resumed
 *   Persist(epoch)            ───────►  fsync every file of the node's part
 *                             ◄───────  Persisted(image) | Failed
 *   (every node persisted: write the manifest, atomic rename = COMMIT)
 *   Seal(epoch)               ───────►  crmpid digests (SHA-256) and seals the image
 *                             ◄───────  Sealed(image) | Failed
 *   (every node sealed: the manifest is replaced by the sealed one; now restorable)
 *   Resume(epoch, vacate)     ───────►  for a vacate only: end the tree
 * </pre>
 *
 * <p>The seal comes after the commit so that the commit waits for the
 * disk only, not for SHA-256 over every byte (about 1 s of a core per GiB,
 * on cores the ranks use again). An epoch whose seal fails is withdrawn
 * (its manifest, then its files, deleted): the epoch before stays the
 * newest restorable one, and retention keeps it until a newer one is
 * sealed. Engines that digest at the persist (root's CRIU, app) send
 * sealed images with Persisted, and the Seal round is skipped. When the
 * commit waits for the state directory, the seal comes before that flush
 * (the flush reads the files as the owner, who gets them at the seal).
 *
 * <p>The ranks are thawed as soon as every node's image is written, not
 * after the commit: the images form a consistent cut once all are written,
 * and the time spent in fsync and digests (most of a large checkpoint) no
 * longer stops the job. A vacate keeps the tree frozen until the commit,
 * then ends it.
 *
 * Any failure or timeout before the commit aborts the epoch: the
 * coordinator sends Resume(committed=false), which always lets the ranks
 * go on (a vacate is not carried out: the job keeps running), and deletes the epoch's directory. Messages are immutable records,
 * validated when they are made; in local mode they are passed by method
 * call, across nodes as JSON.
 */
package io.crmpi.protocol;
