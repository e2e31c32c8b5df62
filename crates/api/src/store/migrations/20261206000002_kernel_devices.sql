-- Which devices (indices of a `*.device` accelerator slot on an agent)
-- each kernel holds. The primary key is what keeps two kernels from ever
-- getting the same device.
CREATE TABLE kernel_devices (
    agent_id  TEXT NOT NULL,
    slot      TEXT NOT NULL,
    idx       BIGINT NOT NULL,
    kernel_id TEXT NOT NULL REFERENCES kernels(id) ON DELETE CASCADE,
    PRIMARY KEY (agent_id, slot, idx)
);
CREATE INDEX kernel_devices_kernel ON kernel_devices(kernel_id);
