<?php
/**
 * Sending events to the relay (`POST {relay}/v1/events`, Bearer API key) through an outbox.
 *
 * The checkout never waits for the relay: events are appended to an outbox option and a
 * WP-Cron run is scheduled at once (WordPress spawns it in the background); the run posts
 * each event and keeps what failed for the next run. Event ids are deterministic, so an
 * event posted twice is sent once by the relay.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

/**
 * Outbox and HTTP client.
 */
class Relay_SMS_Client {

	const OUTBOX     = 'relay_sms_outbox';
	const FLUSH_HOOK = 'relay_sms_flush_outbox';
	const MAX_QUEUED = 500;

	/**
	 * Queue an event and make sure a background run will post it soon.
	 *
	 * @param array $event Wire event.
	 */
	public static function queue( array $event ) {
		$outbox = get_option( self::OUTBOX, array() );
		$outbox = is_array( $outbox ) ? $outbox : array();
		$outbox[ $event['event_id'] ] = $event;
		if ( count( $outbox ) > self::MAX_QUEUED ) {
			$outbox = array_slice( $outbox, -self::MAX_QUEUED, null, true );
		}
		update_option( self::OUTBOX, $outbox, false );
		if ( ! wp_next_scheduled( self::FLUSH_HOOK ) ) {
			wp_schedule_single_event( time(), self::FLUSH_HOOK );
		}
	}

	/**
	 * Post every queued event; keep those that should be tried again (WP-Cron callback).
	 */
	public static function flush() {
		$outbox = get_option( self::OUTBOX, array() );
		if ( ! is_array( $outbox ) || empty( $outbox ) ) {
			return;
		}
		foreach ( $outbox as $event_id => $event ) {
			$outcome = Relay_SMS_Abandonment::outcome( self::post( $event ) );
			if ( 'retry' !== $outcome ) {
				unset( $outbox[ $event_id ] );
			}
			if ( 'drop' === $outcome ) {
				self::log( 'relay refused event ' . $event_id );
			}
		}
		update_option( self::OUTBOX, $outbox, false );
	}

	/**
	 * POST one event; the HTTP status, or null when the relay could not be reached.
	 *
	 * @param array $event Wire event.
	 * @return int|null
	 */
	public static function post( array $event ) {
		$settings = Relay_SMS_Settings::get();
		if ( '' === $settings['relay_url'] || '' === $settings['api_key'] ) {
			return null;
		}
		$response = wp_remote_post(
			untrailingslashit( $settings['relay_url'] ) . '/v1/events',
			array(
				'timeout' => 10,
				'headers' => array(
					'Authorization' => 'Bearer ' . $settings['api_key'],
					'Content-Type'  => 'application/json',
					'Accept'        => 'application/json',
				),
				'body'    => wp_json_encode( $event ),
			)
		);
		if ( is_wp_error( $response ) ) {
			self::log( 'relay unreachable: ' . $response->get_error_message() );
			return null;
		}
		return (int) wp_remote_retrieve_response_code( $response );
	}

	/**
	 * Log through WooCommerce's logger (never the API key, never a phone number).
	 *
	 * @param string $message Text.
	 */
	public static function log( $message ) {
		if ( function_exists( 'wc_get_logger' ) ) {
			wc_get_logger()->warning( $message, array( 'source' => 'relay-sms' ) );
		}
	}
}
