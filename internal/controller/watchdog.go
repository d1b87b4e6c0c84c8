package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/controllerstatus"
	"github.com/rhizoflex/rhizoflex/internal/cluster"
	"github.com/rhizoflex/rhizoflex/internal/notify"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// WatchdogJobName names the watchdog's cluster job.
const WatchdogJobName = "controller-watchdog"

// DefaultWatchdogEvery is how often the watchdog looks (the original hub: every minute).
const DefaultWatchdogEvery = time.Minute

// WatchdogJob is the watchdog as a once-per-cluster job that runs CheckWatchdogs every
// every (default one minute).
func (s *Service) WatchdogJob(every time.Duration) cluster.Job {
	if every <= 0 {
		every = DefaultWatchdogEvery
	}
	return cluster.Job{Name: WatchdogJobName, Every: every, Run: s.CheckWatchdogs}
}

// watchdogBatch is how many status rows one query of the check reads.
const watchdogBatch = 500

// CheckWatchdogs runs one round of the watchdog over every live controller whose
// watchdog minutes are above zero:
//
//   - Silent: its last watchdog is more than its watchdog minutes old and it has not been
//     reported. The report is claimed with a conditional UPDATE of
//     watchdog_offline_notified (false to true) before anything is sent, so of several
//     instances or overlapping rounds exactly one sends it; then the recipients get the
//     offline notice.
//   - Back: it was reported offline and its last watchdog is fresh again. The claim sets
//     the flag back to false, and the recipients get the back-online notice.
//
// A controller that never sent a watchdog is not watched: the watchdog arms with its
// first watchdog message, so a controller set up but not yet deployed raises no alarm.
// A silent controller without recipients is not reported (adding recipients while it is
// silent reports it on the next round). Each notice is attempted once: a failed attempt
// is recorded as a failed OutgoingMessage and not retried, so a broken mail setup never
// floods the records or the recipients. Turning the watchdog off (0 minutes) forgets a
// report without a notice. Notices go out as the system, on behalf of the controller and
// its organization, through the Notifier, which records them.
func (s *Service) CheckWatchdogs(ctx context.Context) error {
	if s.notifier == nil {
		return errors.New("controller: the watchdog needs a Notifier")
	}
	now := s.now()
	err := s.client.ControllerStatus.Update().
		Where(controllerstatus.WatchdogMinutes(0), controllerstatus.WatchdogOfflineNotified(true)).
		SetWatchdogOfflineNotified(false).Exec(ctx)
	if err != nil {
		return fmt.Errorf("controller: forget reports of unwatched controllers: %w", err)
	}
	var errs []error
	after := 0
	for {
		batch, err := s.client.ControllerStatus.Query().
			Where(
				controllerstatus.IDGT(after),
				controllerstatus.WatchdogMinutesGT(0),
				controllerstatus.LastWatchdogAtNotNil(),
				controllerstatus.HasControllerWith(tree.NotDeleted()),
			).
			WithController().Order(controllerstatus.ByID()).Limit(watchdogBatch).All(ctx)
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("controller: watchdog candidates: %w", err))...)
		}
		for _, st := range batch {
			if err := s.checkOne(ctx, st, now); err != nil {
				errs = append(errs, err)
			}
		}
		if len(batch) < watchdogBatch {
			return errors.Join(errs...)
		}
		after = batch[len(batch)-1].ID
	}
}

func (s *Service) checkOne(ctx context.Context, st *ent.ControllerStatus, now time.Time) error {
	cutoff := now.Add(-time.Duration(st.WatchdogMinutes) * time.Minute)
	silent := st.LastWatchdogAt.Before(cutoff)
	switch {
	case silent && !st.WatchdogOfflineNotified:
		return s.reportOffline(ctx, st, now, cutoff)
	case !silent && st.WatchdogOfflineNotified:
		return s.reportBack(ctx, st, now, cutoff)
	}
	return nil
}

func (s *Service) reportOffline(ctx context.Context, st *ent.ControllerStatus, now, cutoff time.Time) error {
	to, err := s.RecipientEmails(ctx, st.ControllerID)
	if err != nil || len(to) == 0 {
		return err
	}
	// The claim re-checks on the row what the round saw, so a watchdog that arrived or a
	// change of minutes in between wins, and of two claimants only one changes the row.
	n, err := s.client.ControllerStatus.Update().
		Where(
			controllerstatus.ID(st.ID),
			controllerstatus.WatchdogOfflineNotified(false),
			controllerstatus.WatchdogMinutes(st.WatchdogMinutes),
			controllerstatus.LastWatchdogAtLT(cutoff),
		).
		SetWatchdogOfflineNotified(true).SetLastWatchdogNoticeAt(now).Save(ctx)
	if err != nil {
		return fmt.Errorf("controller: claim offline notice of %d: %w", st.ControllerID, err)
	}
	if n == 0 {
		return nil
	}
	ctrl := st.Edges.Controller
	subject := fmt.Sprintf("[rhizoflex] %s is offline: no watchdog for %s", ctrl.Path, minutes(st.WatchdogMinutes))
	body := fmt.Sprintf("The controller %s has sent no watchdog message since %s; it should send one at least every %s.\n\n"+
		"You will get one more message when it is back.\n",
		ctrl.Path, stamp(*st.LastWatchdogAt), minutes(st.WatchdogMinutes))
	return s.notice(ctx, st, to, subject, body)
}

func (s *Service) reportBack(ctx context.Context, st *ent.ControllerStatus, now, cutoff time.Time) error {
	n, err := s.client.ControllerStatus.Update().
		Where(
			controllerstatus.ID(st.ID),
			controllerstatus.WatchdogOfflineNotified(true),
			controllerstatus.LastWatchdogAtGTE(cutoff),
		).
		SetWatchdogOfflineNotified(false).SetLastWatchdogNoticeAt(now).Save(ctx)
	if err != nil {
		return fmt.Errorf("controller: claim back-online notice of %d: %w", st.ControllerID, err)
	}
	if n == 0 {
		return nil
	}
	to, err := s.RecipientEmails(ctx, st.ControllerID)
	if err != nil || len(to) == 0 {
		return err
	}
	ctrl := st.Edges.Controller
	reported := ""
	if st.LastWatchdogNoticeAt != nil {
		reported = fmt.Sprintf(" It was reported offline at %s.", stamp(*st.LastWatchdogNoticeAt))
	}
	subject := fmt.Sprintf("[rhizoflex] %s is back online", ctrl.Path)
	body := fmt.Sprintf("The controller %s is back: it sent a watchdog message at %s.%s\n",
		ctrl.Path, stamp(*st.LastWatchdogAt), reported)
	return s.notice(ctx, st, to, subject, body)
}

func (s *Service) notice(ctx context.Context, st *ent.ControllerStatus, to []string, subject, body string) error {
	ctrl := st.Edges.Controller
	body += fmt.Sprintf("\nYou get this message because you are a watchdog recipient of %s.\n", ctrl.Path)
	if s.baseURL != "" {
		body += s.baseURL + "\n"
	}
	org := 0
	if ctrl.OrganizationID != nil {
		org = *ctrl.OrganizationID
	}
	if err := s.notifier.SendEmail(ctx, notify.SystemSender(org, ctrl.ID), to, subject, body); err != nil {
		return fmt.Errorf("controller: watchdog notice for %s: %w", ctrl.Path, err)
	}
	return nil
}

func minutes(m int) string {
	if m == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
