# The paper's cases as recordings and topologies, made by generate.py.
EXTRA_DIST += \
	examples/generate.py \
	examples/fig8-1-pnic-flood.jsonl \
	examples/fig8-2-outgoing-flood.jsonl \
	examples/fig8-3-cpu-contention.jsonl \
	examples/fig8-4-memory-bandwidth.jsonl \
	examples/fig8-5-vm-bottleneck.jsonl \
	examples/fig10-backlog-contention.jsonl \
	examples/fig12-topology.json \
	examples/fig12b-server-overloaded.jsonl \
	examples/fig12c-client-underloaded.jsonl \
	examples/fig12d-nfs-overloaded.jsonl \
	examples/fig13-topology.json \
	examples/fig13-1-lb2-bottleneck.jsonl \
	examples/fig13-2-memory-contention.jsonl \
	examples/fig13-3-lb2-bottleneck-again.jsonl \
	examples/fig13-4-scaled-out.jsonl \
	examples/recorded/kernel-tap-full-ring.jsonl \
	examples/recorded/kernel-tap-txfilter.jsonl
