/**
 * The deterministic simulator. It owns virtual time ({@link org.parley.sim.Engine}), the in-memory links with
 * latency, loss, crashes and partitions ({@link org.parley.sim.Links}, {@link org.parley.sim.Geography}), and the
 * thin supernode and client "shells" ({@link org.parley.sim.SupernodeShell}, {@link org.parley.sim.ClientShell})
 * that drive the REAL overlay code: {@link org.parley.overlay.OverlayNode},
 * {@link org.parley.overlay.DirectoryService}, {@link org.parley.overlay.Admission},
 * {@link org.parley.overlay.HostCache} and {@link org.parley.overlay.AttachPlanner}. No overlay logic is copied
 * here. Records are "signed" with a keyed hash ({@link org.parley.sim.RecordSigner}) instead of ECDSA.
 * {@link org.parley.sim.Scenarios} builds the standard scenarios (steady churn, the 2010 and 2007 outages, a
 * partition that heals) and returns their {@link org.parley.sim.ScenarioResult}; {@link org.parley.sim.SimMain}
 * runs them from the command line. Single-threaded: the same seed gives the same figures.
 */
package org.parley.sim;
