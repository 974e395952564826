<?php
/**
 * The durable send queue: one row per event in {prefix}relay_sms_queue, one background send
 * action per row.
 *
 * An event is inserted once (its deterministic event_id is unique here as at the relay) and
 * stays `queued` until the relay acknowledges it. Each try is one scheduled action
 * (Relay_SMS_Jobs::SEND_HOOK with the row id); a failed try schedules the next with backoff
 * (1, 2, 4 … minutes, at most an hour, or the relay's Retry-After), for as long as it takes:
 * nothing is dropped because the relay is down, the key is wrong or the URL is wrong. Only an
 * answer saying the event itself is invalid (400, 413, 422) ends it as `discarded`, with the
 * relay's reason kept on the row and logged; 409 (the relay holds another event under this
 * id) ends it as `conflict`. Sent rows keep only what the settings page shows (type, status,
 * time); they and ended rows are pruned after 30 days, queued rows never.
 *
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

/**
 * Queue rows and the send job.
 */
class Relay_SMS_Queue {

	const QUEUED    = 'queued';
	const SENT      = 'sent';
	const DISCARDED = 'discarded';
	const CONFLICT  = 'conflict';
	const KEEP_DAYS = 30;
	const HEALTH    = 'relay_sms_health';

	/**
	 * The queue table.
	 *
	 * @return string
	 */
	public static function table() {
		global $wpdb;
		return $wpdb->prefix . 'relay_sms_queue';
	}

	/**
	 * Its schema (for dbDelta).
	 *
	 * @param string $charset Charset and collation.
	 * @return string
	 */
	public static function schema( $charset ) {
		return 'CREATE TABLE ' . self::table() . " (
			id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
			event_id varchar(191) NOT NULL,
			type varchar(40) NOT NULL DEFAULT '',
			body longtext NOT NULL,
			status varchar(16) NOT NULL DEFAULT 'queued',
			attempts int(10) unsigned NOT NULL DEFAULT 0,
			next_at bigint(20) unsigned NOT NULL DEFAULT 0,
			last_code smallint(5) unsigned NULL,
			last_error varchar(255) NOT NULL DEFAULT '',
			phone_key varchar(16) NOT NULL DEFAULT '',
			email_hash char(64) NOT NULL DEFAULT '',
			created_at bigint(20) unsigned NOT NULL DEFAULT 0,
			updated_at bigint(20) unsigned NOT NULL DEFAULT 0,
			PRIMARY KEY  (id),
			UNIQUE KEY event_id (event_id),
			KEY status_next (status,next_at),
			KEY updated_at (updated_at),
			KEY phone_key (phone_key),
			KEY email_hash (email_hash)
			) $charset;";
	}

	/**
	 * Put an event in the queue and schedule its send (once per event_id).
	 *
	 * @param array  $event Wire event.
	 * @param string $email The customer's e-mail, only to find the row for a privacy request
	 *                      (kept as a SHA-256, never sent).
	 * @return int|null The row id, null when it could not be stored (logged).
	 */
	public static function enqueue( array $event, $email = '' ) {
		global $wpdb;
		$body = wp_json_encode( $event );
		if ( false === $body ) {
			Relay_SMS_Client::log( 'event ' . $event['event_id'] . ' is not JSON-encodable; not queued' );
			return null;
		}
		$now   = time();
		$phone = isset( $event['customer']['phone'] ) ? $event['customer']['phone'] : '';
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		$inserted = $wpdb->query(
			$wpdb->prepare(
				'INSERT IGNORE INTO ' . self::table() . ' (event_id, type, body, status, attempts, next_at, phone_key, email_hash, created_at, updated_at) VALUES (%s, %s, %s, %s, 0, %d, %s, %s, %d, %d)', // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- table name.
				$event['event_id'],
				$event['type'],
				$body,
				self::QUEUED,
				$now,
				Relay_SMS_Privacy::phone_key( $phone ),
				Relay_SMS_Privacy::email_hash( $email ),
				$now,
				$now
			)
		);
		if ( false === $inserted ) {
			Relay_SMS_Client::log( 'could not queue event ' . $event['event_id'] . ': ' . $wpdb->last_error );
			return null;
		}
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		$row = $wpdb->get_row( $wpdb->prepare( 'SELECT id, status FROM ' . self::table() . ' WHERE event_id = %s', $event['event_id'] ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared
		if ( ! $row ) {
			return null;
		}
		if ( $inserted > 0 ) {
			Relay_SMS_Jobs::send_at( (int) $row['id'] );
		}
		return (int) $row['id'];
	}

	/**
	 * One row.
	 *
	 * @param int $id Row id.
	 * @return array|null
	 */
	public static function row( $id ) {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		$row = $wpdb->get_row( $wpdb->prepare( 'SELECT * FROM ' . self::table() . ' WHERE id = %d', $id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared
		return $row ? $row : null;
	}

	/**
	 * The send job: post row `$id` once; finish it or schedule the next try.
	 *
	 * @param int $id Row id (the action's argument).
	 */
	public static function send( $id ) {
		global $wpdb;
		$row = self::row( (int) $id );
		if ( ! $row || self::QUEUED !== $row['status'] ) {
			return;
		}
		$event  = json_decode( $row['body'], true );
		$answer = is_array( $event ) ? Relay_SMS_Client::post_event( $event ) : Relay_SMS_Client::failure( 0, 'stored event is not JSON' );
		$code   = $answer['code'];
		$ack    = is_array( $answer['json'] ) && isset( $answer['json']['event_id'] ) && $answer['json']['event_id'] === $row['event_id'];
		if ( 0 === $code ) {
			$outcome = 'discard'; // Our own row is broken: no answer could ever accept it.
		} else {
			$outcome = Relay_SMS_Abandonment::outcome( $code, $ack );
		}
		$now    = time();
		$update = array(
			'attempts'   => (int) $row['attempts'] + 1,
			'last_code'  => $code,
			'last_error' => substr( 'done' === $outcome ? '' : $answer['error'], 0, 255 ),
			'updated_at' => $now,
		);
		if ( 'done' === $outcome ) {
			$update['status'] = self::SENT;
			$update['body']   = ''; // the relay has it; keep only what the settings page shows.
			self::health( true );
		} elseif ( 'discard' === $outcome || 'conflict' === $outcome ) {
			$update['status'] = 'discard' === $outcome ? self::DISCARDED : self::CONFLICT;
			Relay_SMS_Client::log( sprintf( 'relay refused event %s for good (%s): %s', $row['event_id'], $code, $answer['error'] ), 'error' );
		} else {
			$update['next_at'] = $now + Relay_SMS_Abandonment::backoff( $update['attempts'], $answer['retry_after'] );
			self::health( false, $code, $answer['error'] );
		}
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		$wpdb->update( self::table(), $update, array( 'id' => (int) $row['id'] ) );
		if ( isset( $update['next_at'] ) ) {
			Relay_SMS_Jobs::send_at( (int) $row['id'], $update['next_at'] );
		}
	}

	/**
	 * Remember whether the relay is taking events (for the admin notice); written only when
	 * it changes.
	 *
	 * @param bool     $ok    The last try succeeded.
	 * @param int|null $code  HTTP status of a failure (null: no answer).
	 * @param string   $error The failure as shown to the store owner.
	 */
	public static function health( $ok, $code = null, $error = '' ) {
		$now     = get_option( self::HEALTH, array() );
		$now     = is_array( $now ) ? $now : array();
		$healthy = empty( $now ) || ! empty( $now['ok'] );
		if ( $ok && $healthy ) {
			return;
		}
		if ( $ok ) {
			update_option( self::HEALTH, array( 'ok' => true ), false );
			return;
		}
		if ( ! $healthy && isset( $now['code'] ) && $now['code'] === $code && $now['error'] === $error ) {
			return;
		}
		update_option(
			self::HEALTH,
			array(
				'ok'    => false,
				'code'  => $code,
				'error' => (string) $error,
				'since' => $healthy || empty( $now['since'] ) ? time() : (int) $now['since'],
			),
			false
		);
	}

	/**
	 * Schedule a send for queued rows whose action went missing (every sweep; all of them on
	 * activation, when deactivation had unscheduled them).
	 *
	 * @param bool $all Every queued row, not just the overdue ones.
	 * @return int How many were scheduled again.
	 */
	public static function reconcile( $all = false ) {
		global $wpdb;
		$cutoff = $all ? PHP_INT_MAX : time() - 600;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		$ids   = $wpdb->get_col( $wpdb->prepare( 'SELECT id FROM ' . self::table() . ' WHERE status = %s AND next_at <= %d ORDER BY id LIMIT 1000', self::QUEUED, $cutoff ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared
		$count = 0;
		foreach ( $ids as $id ) {
			if ( ! Relay_SMS_Jobs::send_scheduled( (int) $id ) ) {
				Relay_SMS_Jobs::send_at( (int) $id );
				++$count;
			}
		}
		return $count;
	}

	/**
	 * Try every queued event now (after the settings changed, or a successful connection test).
	 *
	 * @return int How many.
	 */
	public static function retry_now() {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		$ids = $wpdb->get_col( $wpdb->prepare( 'SELECT id FROM ' . self::table() . ' WHERE status = %s ORDER BY id', self::QUEUED ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared
		foreach ( $ids as $id ) {
			Relay_SMS_Jobs::send_at( (int) $id );
		}
		return count( $ids );
	}

	/**
	 * The latest deliveries for the settings page (no bodies, no phone numbers).
	 *
	 * @param int $limit How many.
	 * @return array
	 */
	public static function recent( $limit = 20 ) {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		return (array) $wpdb->get_results( $wpdb->prepare( 'SELECT id, event_id, type, status, attempts, next_at, last_code, last_error, created_at, updated_at FROM ' . self::table() . ' ORDER BY updated_at DESC, id DESC LIMIT %d', $limit ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared
	}

	/**
	 * How many events wait, and since when.
	 *
	 * @return array{queued:int, oldest:int|null}
	 */
	public static function stats() {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		$row = $wpdb->get_row( $wpdb->prepare( 'SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM ' . self::table() . ' WHERE status = %s', self::QUEUED ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared
		return array(
			'queued' => $row ? (int) $row['n'] : 0,
			'oldest' => ( $row && null !== $row['oldest'] ) ? (int) $row['oldest'] : null,
		);
	}

	/**
	 * Delete finished rows older than 30 days (queued rows are never pruned).
	 *
	 * @return int Rows deleted.
	 */
	public static function prune() {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		return (int) $wpdb->query( $wpdb->prepare( 'DELETE FROM ' . self::table() . ' WHERE status <> %s AND updated_at < %d', self::QUEUED, time() - self::KEEP_DAYS * DAY_IN_SECONDS ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared
	}

	/**
	 * 1.0.0 kept its outbox in one option: move what is left of it into the queue.
	 */
	public static function migrate_outbox() {
		$outbox = get_option( 'relay_sms_outbox', null );
		if ( null === $outbox ) {
			return;
		}
		foreach ( is_array( $outbox ) ? $outbox : array() as $event ) {
			if ( is_array( $event ) && isset( $event['event_id'], $event['type'] ) ) {
				self::enqueue( $event );
			}
		}
		delete_option( 'relay_sms_outbox' );
	}
}
