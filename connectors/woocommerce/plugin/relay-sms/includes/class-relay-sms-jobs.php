<?php
/**
 * Background jobs: WooCommerce's Action Scheduler when it is there, WP-Cron otherwise.
 *
 * Two hooks run in the background:
 * - `relay_sms_cart_sweep` every five minutes: reports carts left for the configured delay,
 *   prunes old carts and deliveries, re-creates a send action a queued event lost;
 * - `relay_sms_send_event` once per queued event (argument: the queue row id): posts that
 *   event; a failed try schedules the next one with backoff.
 *
 * Action Scheduler (bundled with WooCommerce, group `relay-sms`) keeps each action as a row
 * with its own log and retries it on its own runner (WP-Cron plus async requests); the
 * plugin falls back to WP-Cron when the Action Scheduler API is missing. The sweep is
 * scheduled on activation and re-created on `init` whenever it is missing; both hooks are
 * unscheduled on deactivation.
 *
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

/**
 * Scheduling.
 */
class Relay_SMS_Jobs {

	const SWEEP_HOOK = 'relay_sms_cart_sweep';
	const SEND_HOOK  = 'relay_sms_send_event';
	const GROUP      = 'relay-sms';
	const SCHEDULE   = 'relay_sms_five_minutes';
	const INTERVAL   = 300;

	/**
	 * Hooks: the job callbacks, the WP-Cron schedule, re-creating the sweep on `init`.
	 */
	public static function init() {
		add_action( self::SWEEP_HOOK, array( 'Relay_SMS_Carts', 'sweep' ) );
		add_action( self::SEND_HOOK, array( 'Relay_SMS_Queue', 'send' ) );
		add_filter( 'cron_schedules', array( __CLASS__, 'schedules' ) ); // phpcs:ignore WordPress.WP.CronInterval -- five minutes on purpose.
		add_action( 'init', array( __CLASS__, 'ensure' ), 20 );
	}

	/**
	 * Whether WooCommerce's Action Scheduler can take actions now.
	 *
	 * @return bool
	 */
	public static function action_scheduler() {
		if ( ! function_exists( 'as_schedule_single_action' ) || ! function_exists( 'as_next_scheduled_action' ) ) {
			return false;
		}
		// Before its data store is initialised (plugins_loaded → init) it cannot schedule.
		return ! class_exists( 'ActionScheduler' ) || ! method_exists( 'ActionScheduler', 'is_initialized' ) || ActionScheduler::is_initialized();
	}

	/**
	 * The five-minute WP-Cron schedule (used only without Action Scheduler).
	 *
	 * @param array $schedules Schedules.
	 * @return array
	 */
	public static function schedules( $schedules ) {
		$schedules[ self::SCHEDULE ] = array(
			'interval' => self::INTERVAL,
			'display'  => __( 'Relay SMS: every 5 minutes', 'relay-sms' ),
		);
		return $schedules;
	}

	/**
	 * Make sure the sweep is scheduled (activation, and every `init`).
	 */
	public static function ensure() {
		if ( self::action_scheduler() ) {
			if ( false === as_next_scheduled_action( self::SWEEP_HOOK, array(), self::GROUP ) ) {
				if ( function_exists( 'as_schedule_recurring_action' ) ) {
					as_schedule_recurring_action( time() + self::INTERVAL, self::INTERVAL, self::SWEEP_HOOK, array(), self::GROUP );
				} else {
					as_schedule_single_action( time() + self::INTERVAL, self::SWEEP_HOOK, array(), self::GROUP );
				}
			}
			return;
		}
		if ( ! wp_next_scheduled( self::SWEEP_HOOK ) ) {
			wp_schedule_event( time() + self::INTERVAL, self::SCHEDULE, self::SWEEP_HOOK );
		}
	}

	/**
	 * After a sweep without recurring actions: the next one.
	 */
	public static function sweep_done() {
		if ( self::action_scheduler() && ! function_exists( 'as_schedule_recurring_action' ) ) {
			as_schedule_single_action( time() + self::INTERVAL, self::SWEEP_HOOK, array(), self::GROUP );
		}
	}

	/**
	 * Post queue row `$id` at `$when` (now: as soon as the runner gets to it).
	 *
	 * @param int      $id   Queue row id.
	 * @param int|null $when Unix time; null for now.
	 */
	public static function send_at( $id, $when = null ) {
		$args = array( (int) $id );
		if ( self::action_scheduler() ) {
			if ( false !== as_next_scheduled_action( self::SEND_HOOK, $args, self::GROUP ) ) {
				as_unschedule_all_actions( self::SEND_HOOK, $args, self::GROUP );
			}
			if ( null === $when && function_exists( 'as_enqueue_async_action' ) ) {
				as_enqueue_async_action( self::SEND_HOOK, $args, self::GROUP );
			} else {
				as_schedule_single_action( null === $when ? time() : (int) $when, self::SEND_HOOK, $args, self::GROUP );
			}
			return;
		}
		wp_clear_scheduled_hook( self::SEND_HOOK, $args );
		wp_schedule_single_event( null === $when ? time() : (int) $when, self::SEND_HOOK, $args );
	}

	/**
	 * Whether a send of queue row `$id` is scheduled.
	 *
	 * @param int $id Queue row id.
	 * @return bool
	 */
	public static function send_scheduled( $id ) {
		$args = array( (int) $id );
		if ( self::action_scheduler() ) {
			return false !== as_next_scheduled_action( self::SEND_HOOK, $args, self::GROUP );
		}
		return false !== wp_next_scheduled( self::SEND_HOOK, $args );
	}

	/**
	 * Deactivation and uninstall: unschedule everything of the plugin's (queued events stay in
	 * the queue table and are scheduled again on the next activation).
	 */
	public static function clear() {
		if ( function_exists( 'as_unschedule_all_actions' ) ) {
			as_unschedule_all_actions( self::SWEEP_HOOK );
			as_unschedule_all_actions( self::SEND_HOOK );
		}
		wp_clear_scheduled_hook( self::SWEEP_HOOK );
		wp_unschedule_hook( self::SEND_HOOK );
		wp_clear_scheduled_hook( 'relay_sms_flush_outbox' ); // 1.0.0's outbox run.
	}
}
