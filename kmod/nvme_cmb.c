// SPDX-License-Identifier: GPL-2.0
/*
 * Provider: the Controller Memory Buffer of an NVMe drive bound to the
 * stock nvme driver.
 *
 * Without CONFIG_PCI_P2PDMA, nvme_map_cmb() cannot register the CMB
 * ("failed to register the CMB") and writes CMBMSC = 0: the controller then
 * no longer decodes its own CMB addresses, and a command pointing at the
 * CMB has the drive DMA to the bus instead (QEMU reports success with
 * wrong data).  We arm it again, the way nvme_map_cmb() does (NVMe 1.4
 * CMBMSC: CRE to read CMBLOC/CMBSZ, then CRE | CMSE | the CMB's bus
 * address), and give the CMB range to the core.
 *
 * The driver does not know, and a controller reset runs nvme_map_cmb()
 * again, which disables the CMB again.  A request in flight at that moment
 * is cancelled and retried once the controller is back; if it moves data
 * between the drive and its own CMB and CMBMSC is 0 by then, the drive
 * misses its own CMB (QEMU even completes it successfully with wrong data).
 * The driver gives us no hook, so we take one: a kprobe on nvme_enable_ctrl(),
 * which the nvme driver calls in every reset (and probe) after
 * nvme_map_cmb() and before the controller runs a command (6.1 to 6.12),
 * re-arms every CMB of ours whose CMBMSC is not what we wrote, in the reset
 * worker itself: no request can reach a disarmed CMB.  Where kprobes are
 * not to be had (CONFIG_KPROBES off, or the symbol missing), a watcher
 * thread per CMB is all there is; it runs in any case and polls the
 * registers:
 *  - watching: CMBMSC must hold what we wrote, and the controller must be
 *    enabled and ready (CC.EN, CSTS.RDY: a reset drops them before it
 *    touches CMBMSC); every poll_ms while nothing is allocated, every
 *    millisecond while memory is out (a reset spends milliseconds between
 *    CC.EN=0 and its CMBMSC=0 write);
 *  - guarding, once a reset is seen: the provider goes offline (mappings
 *    revoked, allocations refused, kernel clients told) and, while pages
 *    are still out (pinned by I/O in flight), the thread re-arms CMBMSC
 *    as soon as the driver cleared it, so that the retried requests find
 *    the CMB enabled: while the controller is down it spins (yielding)
 *    rather than sleep on a timer, so it runs again at the reset worker's
 *    first sleep after clearing CMBMSC, and the driver sends several admin
 *    commands before it restarts I/O.  Still a race, not a guarantee (the
 *    driver gives no hook): the kernel log says when a re-arm was needed
 *    while I/O was pinned.
 * The provider stays offline until the drive is bound again.  A reset while
 * nothing is allocated costs nothing: the watcher waits for the controller,
 * arms the CMB again and the provider stays online (its pages are cleared
 * again before use).  The bus notifier (lifetime.c) removes the provider
 * when the drive is unbound or removed, before the nvme driver's remove
 * runs.
 *
 * On kernels with CONFIG_PCI_P2PDMA the nvme driver registers the CMB with
 * upstream P2PDMA itself: nothing here runs.
 */
#define pr_fmt(fmt) "p2pmem: " fmt

#include <linux/delay.h>
#include <linux/freezer.h>
#include <linux/io-64-nonatomic-hi-lo.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/nvme.h>
#include <linux/kthread.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "p2pmem_internal.h"

static bool p2pmem_nvme_cmb = true;
module_param_named(nvme_cmb, p2pmem_nvme_cmb, bool, 0444);
MODULE_PARM_DESC(nvme_cmb, "serve the CMBs of drives bound to the nvme driver (default: on; never on P2PDMA kernels)");

static unsigned int p2pmem_cmb_poll_ms = 100;
module_param_named(cmb_poll_ms, p2pmem_cmb_poll_ms, uint, 0644);
MODULE_PARM_DESC(cmb_poll_ms, "how often a CMB provider checks that its CMB is still enabled (ms, default 100)");

#define P2PMEM_CMB_REGS_LEN	0x1000
/* Not in <linux/nvme.h>: CMB Status (NVMe 1.4), Controller Base Address Invalid. */
#define P2PMEM_NVME_REG_CMBSTS	0x0058
#define P2PMEM_NVME_CMBSTS_CBAI	BIT(0)
/* A drive bound but not ready yet is retried this often, this many times. */
#define P2PMEM_CMB_RETRY_MS	200
#define P2PMEM_CMB_RETRIES	50

struct p2pmem_cmb {
	struct list_head node;
	struct pci_dev *pdev;
	void __iomem *regs;		/* our own mapping of the registers */
	u64 armed;			/* the CMBMSC value we wrote, or 0 */
	struct p2pmem_dev *p;		/* a reference of our own */
	struct task_struct *watcher;
	wait_queue_head_t wq;		/* the watcher naps here */
	bool hurry;			/* memory went out: poll fast now */
	struct work_struct offline;
	atomic_t hook_rearms;		/* by the reset hook, not yet logged */
};

/* Serializes arming and removal; taken inside the PCI device lock. */
static DEFINE_MUTEX(p2pmem_cmb_lock);
/* The list, for the reset hook too: changed under both locks. */
static DEFINE_SPINLOCK(p2pmem_cmb_list_lock);
static LIST_HEAD(p2pmem_cmbs);
static void p2pmem_cmb_rescan(struct work_struct *work);
static DECLARE_DELAYED_WORK(p2pmem_cmb_rescan_work, p2pmem_cmb_rescan);
static unsigned int p2pmem_cmb_retries;

static bool p2pmem_cmb_is_nvme(struct pci_dev *pdev)
{
	return pdev->class == PCI_CLASS_STORAGE_EXPRESS &&
	       pdev->dev.driver &&
	       !strcmp(pdev->dev.driver->name, "nvme");
}

/*
 * Enabled, ready, not failed and not shut down: a drive the nvme driver let
 * go of keeps CC.EN and CSTS.RDY but has CC.SHN/CSTS.SHST set until the
 * next enable, which comes after nvme_map_cmb() (6.1 probes asynchronously,
 * so a newly bound drive can look ready before the driver touched it).
 */
static bool p2pmem_cmb_ready(void __iomem *regs)
{
	u32 cc = readl(regs + NVME_REG_CC);
	u32 csts = readl(regs + NVME_REG_CSTS);

	return csts != ~0U && (cc & NVME_CC_ENABLE) && (csts & NVME_CSTS_RDY) &&
	       !(csts & (NVME_CSTS_CFS | NVME_CSTS_SHST_MASK)) &&
	       !(cc & NVME_CC_SHN_MASK);
}

/* Still armed as we left it, on a working controller? */
static bool p2pmem_cmb_intact(struct p2pmem_cmb *cmb)
{
	if (!p2pmem_cmb_ready(cmb->regs))
		return false;
	return !cmb->armed || lo_hi_readq(cmb->regs + NVME_REG_CMBMSC) == cmb->armed;
}

#ifdef CONFIG_KPROBES
/*
 * The reset hook: the nvme driver is about to enable a controller, after
 * nvme_map_cmb() wrote CMBMSC = 0.  We do not know which controller (the
 * argument is the driver's private structure), so every CMB of ours whose
 * CMBMSC differs from our arming gets it back; that is what nvme_map_cmb()
 * itself writes first, on a disabled controller.  Atomic context: MMIO and
 * a spinlock only; the watcher logs what the hook did.
 */
static int p2pmem_cmb_reset_hook(struct kprobe *kp, struct pt_regs *regs)
{
	struct p2pmem_cmb *cmb;
	unsigned long flags;
	u64 msc;

	spin_lock_irqsave(&p2pmem_cmb_list_lock, flags);
	list_for_each_entry(cmb, &p2pmem_cmbs, node) {
		if (!cmb->armed)
			continue;
		msc = lo_hi_readq(cmb->regs + NVME_REG_CMBMSC);
		if (msc != cmb->armed && msc != ~0ULL) {
			hi_lo_writeq(cmb->armed, cmb->regs + NVME_REG_CMBMSC);
			atomic_inc(&cmb->hook_rearms);
		}
	}
	spin_unlock_irqrestore(&p2pmem_cmb_list_lock, flags);
	return 0;
}

static struct kprobe p2pmem_cmb_kp;
static bool p2pmem_cmb_kp_on;

/*
 * Take the hook (again: it is gone when nvme_core was unloaded since).
 * Process context, no lock of ours held; the rescan work serializes it.
 */
static void p2pmem_cmb_hook_get(void)
{
	int ret;

	if (p2pmem_cmb_kp_on && !kprobe_gone(&p2pmem_cmb_kp))
		return;
	if (p2pmem_cmb_kp_on)
		unregister_kprobe(&p2pmem_cmb_kp);
	p2pmem_cmb_kp = (struct kprobe) {
		.symbol_name = "nvme_enable_ctrl",
		.pre_handler = p2pmem_cmb_reset_hook,
	};
	ret = register_kprobe(&p2pmem_cmb_kp);
	p2pmem_cmb_kp_on = !ret;
	if (ret)
		pr_warn("no controller reset hook (kprobe on nvme_enable_ctrl: %d): after a reset only the watcher re-arms a CMB, which requests retried at once can miss\n",
			ret);
}

static void p2pmem_cmb_hook_put(void)
{
	if (p2pmem_cmb_kp_on)
		unregister_kprobe(&p2pmem_cmb_kp);
	p2pmem_cmb_kp_on = false;
}
#else
static void p2pmem_cmb_hook_get(void)
{
	pr_info_once("no controller reset hook (CONFIG_KPROBES off): after a reset only the watcher re-arms a CMB, which requests retried at once can miss\n");
}

static void p2pmem_cmb_hook_put(void)
{
}
#endif

/*
 * Did the hook re-arm this CMB since the last call?  Then the controller
 * was reset, though CMBMSC reads as we left it: the watcher handles it as
 * a reset it saw itself.  Logged here, out of the hook's atomic context.
 */
static bool p2pmem_cmb_hook_report(struct p2pmem_cmb *cmb)
{
	int n = atomic_xchg(&cmb->hook_rearms, 0);

	if (n)
		pci_info(cmb->pdev, "p2pmem: CMBMSC re-armed by the reset hook before the controller was enabled (%lld bytes in use)\n",
			 (long long)atomic64_read(&cmb->p->stats.in_use));
	return n;
}

/*
 * Called with p->lock held and the provider online, so never after
 * p2pmem_cmb_del() took the provider offline and stopped the watcher: the
 * wait queue it wakes lives as long as the provider.
 */
static bool p2pmem_cmb_check(struct p2pmem_dev *p)
{
	struct p2pmem_cmb *cmb = p->priv;

	lockdep_assert_held(&p->lock);
	/* Memory is about to go out: the watcher must poll fast from now on. */
	WRITE_ONCE(cmb->hurry, true);
	wake_up(&cmb->wq);
	return p2pmem_cmb_intact(cmb);
}

static void p2pmem_cmb_offline(struct work_struct *work)
{
	struct p2pmem_cmb *cmb = container_of(work, struct p2pmem_cmb, offline);

	p2pmem_provider_offline(cmb->p, "NVMe controller reset disabled its CMB");
}

/*
 * Sleep without counting as load.  Short naps (guarding a reset) are plain
 * sleeps; long ones end early when kthread_stop() or the check op (memory
 * going out) asks, and let the system freeze for suspend.  The condition is
 * checked after the task state is set, so no wake-up is lost.
 */
static void p2pmem_cmb_nap(struct p2pmem_cmb *cmb, unsigned long us)
{
	if (kthread_should_stop())
		return;
	if (us < 2000) {
		usleep_range_state(us, us * 2, TASK_IDLE);
		return;
	}
	wait_event_freezable_timeout(cmb->wq, kthread_should_stop() ||
				     READ_ONCE(cmb->hurry),
				     usecs_to_jiffies(us));
	WRITE_ONCE(cmb->hurry, false);
}

/*
 * Guard mode: re-arm CMBMSC whenever it differs from our value, as fast as
 * we can, until the controller has been ready and armed for a while; then
 * keep watching slowly while pages are still out, and guard again if
 * another reset starts.
 *
 * While the controller is down (the window in which the driver clears
 * CMBMSC) we do not sleep on a timer but spin, yielding: a timer's wake-up
 * can come late (a busy host delays a VM's timers by milliseconds), while a
 * spinning thread runs again as soon as the reset worker sleeps for the
 * first time after clearing CMBMSC (enabling the controller waits for
 * CSTS.RDY), long before the retried requests go out.  The spin is bounded
 * (P2PMEM_CMB_SPIN_MS) for a controller that never comes back.
 */
#define P2PMEM_CMB_SPIN_MS	2000

static void p2pmem_cmb_guard(struct p2pmem_cmb *cmb)
{
	unsigned long fast_until = jiffies + HZ, rearms = 0;
	unsigned long spin_until = jiffies + msecs_to_jiffies(P2PMEM_CMB_SPIN_MS);
	bool ready;
	u64 msc;

	while (!kthread_should_stop()) {
		u32 csts = readl(cmb->regs + NVME_REG_CSTS);

		if (csts == ~0U) {		/* gone, or in a function reset */
			p2pmem_cmb_nap(cmb, 10000);
			break;
		}
		ready = p2pmem_cmb_ready(cmb->regs);
		if (!ready)
			fast_until = jiffies + HZ;
		p2pmem_cmb_hook_report(cmb);
		msc = lo_hi_readq(cmb->regs + NVME_REG_CMBMSC);
		if (cmb->armed && msc != cmb->armed) {
			hi_lo_writeq(cmb->armed, cmb->regs + NVME_REG_CMBMSC);
			if (!rearms++)
				pci_info(cmb->pdev, "p2pmem: re-armed CMBMSC (was %#llx) for %lld bytes still in use\n",
					 msc, (long long)atomic64_read(&cmb->p->stats.in_use));
			fast_until = jiffies + HZ;
		}
		if (!ready && time_before(jiffies, spin_until)) {
			cond_resched();
			cpu_relax();
			continue;
		}
		if (time_before(jiffies, fast_until)) {
			p2pmem_cmb_nap(cmb, 20);
			continue;
		}
		if (!atomic64_read(&cmb->p->stats.in_use))
			break;
		p2pmem_cmb_nap(cmb, 1000);
	}
	if (rearms)
		pci_info(cmb->pdev, "p2pmem: CMBMSC re-armed %lu times after the reset\n",
			 rearms);
}

/*
 * Wait until the controller works again (the reset or function-level reset
 * is over); false if it did not within @ms or the thread is told to stop.
 */
static bool p2pmem_cmb_wait_ready(struct p2pmem_cmb *cmb, unsigned int ms)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(ms);

	while (!p2pmem_cmb_ready(cmb->regs)) {
		if (kthread_should_stop() || time_after(jiffies, deadline))
			return false;
		p2pmem_cmb_nap(cmb, 10000);
	}
	return true;
}

/*
 * The controller is back and nothing is allocated: arm the CMB again and
 * (again) offer it.  Its content is not ours any more (the controller may
 * have used or reset it), so every page is cleared again before it is
 * handed out.  Under p->lock: no allocation is half way while we re-arm.
 * False if memory is out, the provider is being removed, or the controller
 * refuses the arming.
 */
static bool p2pmem_cmb_restore(struct p2pmem_cmb *cmb)
{
	struct p2pmem_dev *p = cmb->p;
	bool was_online, ok = false;

	/* The reset this restores: the hook's part of it is told now. */
	p2pmem_cmb_hook_report(cmb);
	mutex_lock(&p->lock);
	was_online = p2pmem_online(p);
	if (!p->removing && !atomic64_read(&p->stats.in_use)) {
		if (cmb->armed)
			hi_lo_writeq(cmb->armed, cmb->regs + NVME_REG_CMBMSC);
		ok = p2pmem_cmb_intact(cmb);
		if (ok) {
			p2pmem_pool_distrust(p);
			WRITE_ONCE(p->state, P2PMEM_ONLINE);
		}
	}
	mutex_unlock(&p->lock);
	if (ok)
		pci_info(cmb->pdev, "p2pmem: CMB re-armed after the controller came back; %s %s\n",
			 dev_name(&p->dev),
			 was_online ? "stays online (nothing was allocated)" : "is online again");
	return ok;
}

/*
 * The watcher: one thread per CMB.  Watching while the CMB is intact;
 * after a reset with nothing allocated, restore it in place; after a reset
 * with memory out, take the provider offline, guard the pages still pinned
 * (p2pmem_cmb_guard()) until every page is back, then restore it.
 */
static int p2pmem_cmb_watch(void *data)
{
	struct p2pmem_cmb *cmb = data;
	struct p2pmem_dev *p = cmb->p;
	u32 cc, csts;
	u64 msc;

	set_freezable();
	while (!kthread_should_stop()) {
		bool reset = p2pmem_cmb_hook_report(cmb);

		if (!p2pmem_online(p)) {
			/* After a reset under load (or during removal). */
			if (atomic64_read(&p->stats.in_use))
				p2pmem_cmb_guard(cmb);
			else if (!p2pmem_cmb_wait_ready(cmb, 1000) ||
				 !p2pmem_cmb_restore(cmb))
				p2pmem_cmb_nap(cmb, 100000);
			continue;
		}
		if (!reset && p2pmem_cmb_intact(cmb)) {
			if (atomic64_read(&p->stats.in_use))
				p2pmem_cmb_nap(cmb, 1000);
			else
				p2pmem_cmb_nap(cmb, max(10U, READ_ONCE(p2pmem_cmb_poll_ms)) *
					       1000UL);
			continue;
		}
		cc = readl(cmb->regs + NVME_REG_CC);
		csts = readl(cmb->regs + NVME_REG_CSTS);
		msc = lo_hi_readq(cmb->regs + NVME_REG_CMBMSC);
		if (!atomic64_read(&p->stats.in_use)) {
			pci_info(cmb->pdev, "p2pmem: %s (CC %#x, CSTS %#x, CMBMSC %#llx), nothing allocated\n",
				 reset ? "controller reset" : "CMB disabled: reset?",
				 cc, csts, msc);
			if (p2pmem_cmb_wait_ready(cmb, 10000) &&
			    p2pmem_cmb_restore(cmb))
				continue;
			if (kthread_should_stop())
				break;
		}
		pci_warn(cmb->pdev, "p2pmem: %s (CC %#x, CSTS %#x, CMBMSC %#llx, ours %#llx) with %lld bytes in use\n",
			 reset ? "controller reset" : "CMB no longer usable: reset?",
			 cc, csts, msc, cmb->armed,
			 (long long)atomic64_read(&p->stats.in_use));
		schedule_work(&cmb->offline);
		p2pmem_cmb_guard(cmb);
		/* Offline before restoring: the work item must not undo that. */
		flush_work(&cmb->offline);
	}
	return 0;
}

static const struct p2pmem_provider_ops p2pmem_cmb_ops = {
	.check = p2pmem_cmb_check,
};

static void p2pmem_cmb_disarm(struct p2pmem_cmb *cmb)
{
	/* What the nvme driver left there: CMB disabled. */
	if (cmb->armed)
		hi_lo_writeq(0, cmb->regs + NVME_REG_CMBMSC);
}

/*
 * Arm the CMB of @pdev and register it.  Called with the device lock and
 * p2pmem_cmb_lock held.  Returns -EAGAIN while the controller is not ready.
 */
static int p2pmem_cmb_add(struct pci_dev *pdev)
{
	u64 cap, size, offset, unit, bar_len;
	struct p2pmem_cmb *cmb;
	u32 cmbsz, cmbloc;
	int bar, ret;

	list_for_each_entry(cmb, &p2pmem_cmbs, node)
		if (cmb->pdev == pdev)
			return 0;

	cmb = kzalloc(sizeof(*cmb), GFP_KERNEL);
	if (!cmb)
		return -ENOMEM;
	cmb->pdev = pci_dev_get(pdev);
	INIT_WORK(&cmb->offline, p2pmem_cmb_offline);
	init_waitqueue_head(&cmb->wq);
	/*
	 * nvme maps BAR0 too; a second uncached mapping of the same range is
	 * what PAT expects and the registers we touch are ours alone.
	 */
	cmb->regs = pci_iomap_range(pdev, 0, 0, P2PMEM_CMB_REGS_LEN);
	if (!cmb->regs) {
		ret = -ENOMEM;
		goto free_cmb;
	}
	if (!p2pmem_cmb_ready(cmb->regs)) {
		ret = -EAGAIN;
		goto unmap_regs;
	}

	cap = lo_hi_readq(cmb->regs + NVME_REG_CAP);
	/* NVMe 1.4+: CMBLOC and CMBSZ read as 0 until CRE is set. */
	if (NVME_CAP_CMBS(cap))
		writel(NVME_CMBMSC_CRE, cmb->regs + NVME_REG_CMBMSC);
	cmbsz = readl(cmb->regs + NVME_REG_CMBSZ);
	if (!cmbsz) {
		ret = -ENODEV;		/* no CMB: not an error */
		goto disarm;
	}
	cmbloc = readl(cmb->regs + NVME_REG_CMBLOC);
	if ((cmbsz & (NVME_CMBSZ_WDS | NVME_CMBSZ_RDS)) !=
	    (NVME_CMBSZ_WDS | NVME_CMBSZ_RDS)) {
		pci_info(pdev, "p2pmem: CMB does not hold read and write data (CMBSZ %#x): not used\n",
			 cmbsz);
		ret = -ENODEV;
		goto disarm;
	}
	unit = 1ULL << (12 + 4 * ((cmbsz >> NVME_CMBSZ_SZU_SHIFT) &
				  NVME_CMBSZ_SZU_MASK));
	size = unit * ((cmbsz >> NVME_CMBSZ_SZ_SHIFT) & NVME_CMBSZ_SZ_MASK);
	if (!size) {
		/* 0 would mean "the rest of the BAR" to the core. */
		pci_info(pdev, "p2pmem: CMB of size 0 (CMBSZ %#x): not used\n", cmbsz);
		ret = -ENODEV;
		goto disarm;
	}
	offset = unit * NVME_CMB_OFST(cmbloc);
	bar = NVME_CMB_BIR(cmbloc);
	bar_len = pci_resource_len(pdev, bar);
	if (bar >= PCI_STD_NUM_BARS || offset >= bar_len) {
		pci_err(pdev, "p2pmem: CMB at BAR%d+%#llx is outside the BAR\n",
			bar, offset);
		ret = -EINVAL;
		goto disarm;
	}
	/* A CMB larger than its BAR (behind a bridge) is cut to the BAR. */
	size = min(size, bar_len - offset);

	if (NVME_CAP_CMBS(cap)) {
		cmb->armed = NVME_CMBMSC_CRE | NVME_CMBMSC_CMSE |
			     (pci_bus_address(pdev, bar) + offset);
		hi_lo_writeq(cmb->armed, cmb->regs + NVME_REG_CMBMSC);
		if (lo_hi_readq(cmb->regs + NVME_REG_CMBMSC) != cmb->armed ||
		    (readl(cmb->regs + P2PMEM_NVME_REG_CMBSTS) & P2PMEM_NVME_CMBSTS_CBAI)) {
			pci_err(pdev, "p2pmem: the controller did not accept CMBMSC %#llx (CMBSTS %#x)\n",
				cmb->armed, readl(cmb->regs + P2PMEM_NVME_REG_CMBSTS));
			ret = -EIO;
			goto disarm;
		}
	}

	cmb->p = p2pmem_provider_create(pdev, bar, offset, size,
					P2PMEM_KIND_NVME_CMB, &p2pmem_cmb_ops,
					cmb);
	if (IS_ERR(cmb->p)) {
		ret = PTR_ERR(cmb->p);
		goto disarm;
	}
	/*
	 * Our own reference: the watcher and the offline work use the
	 * provider until p2pmem_cmb_del() stopped them, after its removal.
	 * The watcher starts once cmb->p is set; until then the check op
	 * only sets cmb->hurry.
	 */
	p2pmem_get(cmb->p);
	cmb->watcher = kthread_run(p2pmem_cmb_watch, cmb, "p2pcmb-%02x:%02x.%d",
				   pdev->bus->number, PCI_SLOT(pdev->devfn),
				   PCI_FUNC(pdev->devfn));
	if (IS_ERR(cmb->watcher)) {
		ret = PTR_ERR(cmb->watcher);
		goto remove_provider;
	}
	spin_lock_irq(&p2pmem_cmb_list_lock);
	list_add_tail(&cmb->node, &p2pmem_cmbs);
	spin_unlock_irq(&p2pmem_cmb_list_lock);
	return 0;

remove_provider:
	p2pmem_provider_remove(cmb->p);
	p2pmem_put(cmb->p);
disarm:
	p2pmem_cmb_disarm(cmb);
unmap_regs:
	pci_iounmap(pdev, cmb->regs);
free_cmb:
	pci_dev_put(cmb->pdev);
	kfree(cmb);
	return ret;
}

/*
 * Remove the provider first: from then on it is offline, so the check op
 * (which wakes the watcher) is never called again; meanwhile the watcher
 * keeps guarding CMBMSC for the pages still pinned.  Then stop the watcher
 * and the offline work, which use the provider through our reference.
 */
static void p2pmem_cmb_del(struct p2pmem_cmb *cmb)
{
	p2pmem_provider_remove(cmb->p);
	kthread_stop(cmb->watcher);
	cancel_work_sync(&cmb->offline);
	p2pmem_put(cmb->p);
	/* Only if it is still our arming: a reset may have rewritten it. */
	if (cmb->armed &&
	    lo_hi_readq(cmb->regs + NVME_REG_CMBMSC) == cmb->armed)
		p2pmem_cmb_disarm(cmb);
	pci_iounmap(cmb->pdev, cmb->regs);
	pci_dev_put(cmb->pdev);
	kfree(cmb);
}

/*
 * Arm every nvme-bound drive that has no provider yet.  Runs from a work
 * item, because the bus notifier is called with the device lock held and
 * arming must not race with an unbind (which takes the same lock).
 */
static void p2pmem_cmb_rescan(struct work_struct *work)
{
	struct pci_dev *pdev = NULL;
	bool again = false, nvme = false;
	int ret;

	while ((pdev = pci_get_class(PCI_CLASS_STORAGE_EXPRESS, pdev))) {
		device_lock(&pdev->dev);
		if (p2pmem_cmb_is_nvme(pdev)) {
			mutex_lock(&p2pmem_cmb_lock);
			ret = p2pmem_cmb_add(pdev);
			mutex_unlock(&p2pmem_cmb_lock);
			if (ret == -EAGAIN)
				again = true;
			nvme = true;
		}
		device_unlock(&pdev->dev);
	}
	/*
	 * A bound driver means nvme_core is loaded.  Outside the device lock
	 * (registering waits for the text patching); the watcher alone guards
	 * a new provider until then.
	 */
	if (nvme)
		p2pmem_cmb_hook_get();
	if (again && p2pmem_cmb_retries++ < P2PMEM_CMB_RETRIES)
		schedule_delayed_work(&p2pmem_cmb_rescan_work,
				      msecs_to_jiffies(P2PMEM_CMB_RETRY_MS));
}

void p2pmem_cmb_bound(struct pci_dev *pdev)
{
	if (IS_ENABLED(CONFIG_PCI_P2PDMA) || !p2pmem_nvme_cmb ||
	    !p2pmem_cmb_is_nvme(pdev))
		return;
	p2pmem_cmb_retries = 0;
	mod_delayed_work(system_wq, &p2pmem_cmb_rescan_work, 0);
}

/*
 * The drive is being unbound or removed (bus notifier, with its device
 * lock held).  The global lock only covers the list: the removal waits
 * for pinned pages, unbounded, and must not hold up the notifier for every
 * other PCI device meanwhile.
 */
void p2pmem_cmb_unbind(struct pci_dev *pdev)
{
	struct p2pmem_cmb *cmb, *found = NULL;

	if (pdev->class != PCI_CLASS_STORAGE_EXPRESS)
		return;
	mutex_lock(&p2pmem_cmb_lock);
	list_for_each_entry(cmb, &p2pmem_cmbs, node) {
		if (cmb->pdev == pdev) {
			found = cmb;
			spin_lock_irq(&p2pmem_cmb_list_lock);
			list_del(&cmb->node);
			spin_unlock_irq(&p2pmem_cmb_list_lock);
			break;
		}
	}
	mutex_unlock(&p2pmem_cmb_lock);
	if (found) {
		pci_info(pdev, "p2pmem: removing CMB provider %s\n",
			 dev_name(&found->p->dev));
		p2pmem_cmb_del(found);
	}
}

int p2pmem_cmb_init(void)
{
	if (IS_ENABLED(CONFIG_PCI_P2PDMA) || !p2pmem_nvme_cmb)
		return 0;
	p2pmem_cmb_retries = 0;
	mod_delayed_work(system_wq, &p2pmem_cmb_rescan_work, 0);
	return 0;
}

void p2pmem_cmb_exit(void)
{
	struct p2pmem_cmb *cmb;
	struct pci_dev *pdev;

	cancel_delayed_work_sync(&p2pmem_cmb_rescan_work);
	for (;;) {
		mutex_lock(&p2pmem_cmb_lock);
		cmb = list_first_entry_or_null(&p2pmem_cmbs, struct p2pmem_cmb,
					       node);
		pdev = cmb ? pci_dev_get(cmb->pdev) : NULL;
		mutex_unlock(&p2pmem_cmb_lock);
		if (!pdev)
			break;
		/* Device lock first, as in the notifier and the rescan. */
		device_lock(&pdev->dev);
		p2pmem_cmb_unbind(pdev);
		device_unlock(&pdev->dev);
		pci_dev_put(pdev);
	}
	p2pmem_cmb_hook_put();
}
