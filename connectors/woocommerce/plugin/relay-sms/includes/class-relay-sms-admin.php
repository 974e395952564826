<?php
/**
 * The admin side: the settings page with its "test connection" button, the link into the
 * relay's web cabinet and the last deliveries; notices when the plugin is not set up or the
 * relay is not taking events.
 *
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

/**
 * Admin page and notices.
 */
class Relay_SMS_Admin {

	const TEST    = 'relay_sms_test_connection';
	const CABINET = 'relay_sms_cabinet';
	const RESULT  = 'relay_sms_result_';

	/**
	 * Hooks.
	 */
	public static function init() {
		add_action( 'admin_notices', array( __CLASS__, 'notices' ) );
		add_action( 'admin_post_' . self::TEST, array( __CLASS__, 'test_connection' ) );
		add_action( 'admin_post_' . self::CABINET, array( __CLASS__, 'open_cabinet' ) );
		add_filter( 'plugin_action_links_' . plugin_basename( RELAY_SMS_FILE ), array( __CLASS__, 'action_links' ) );
	}

	/**
	 * "Settings" on the Plugins screen.
	 *
	 * @param array $links Links.
	 * @return array
	 */
	public static function action_links( $links ) {
		array_unshift( $links, '<a href="' . esc_url( Relay_SMS_Settings::url() ) . '">' . esc_html__( 'Settings', 'relay-sms' ) . '</a>' );
		return $links;
	}

	/**
	 * Notices for people who can fix them: not set up; the relay refusing or unreachable.
	 */
	public static function notices() {
		if ( ! current_user_can( Relay_SMS_Settings::CAP ) ) {
			return;
		}
		$link = '<a href="' . esc_url( Relay_SMS_Settings::url() ) . '">' . esc_html__( 'Open the Relay SMS settings', 'relay-sms' ) . '</a>';
		if ( ! Relay_SMS_Settings::configured() ) {
			echo '<div class="notice notice-warning"><p>' . esc_html__( 'Relay SMS is not connected yet: enter the relay URL and API key. Until then consent records and cart reminders wait in the queue.', 'relay-sms' ) . ' ' . wp_kses_post( $link ) . '</p></div>';
			return;
		}
		$health = get_option( Relay_SMS_Queue::HEALTH, array() );
		if ( ! is_array( $health ) || ! isset( $health['ok'] ) || $health['ok'] ) {
			return;
		}
		$stats = Relay_SMS_Queue::stats();
		if ( 0 === $stats['queued'] ) {
			return;
		}
		$refused = in_array( $health['code'], array( 401, 403 ), true );
		$title   = $refused ? __( 'The relay refused the Relay SMS API key.', 'relay-sms' ) : __( 'Relay SMS cannot deliver events to the relay.', 'relay-sms' );
		printf(
			'<div class="notice notice-error"><p><strong>%s</strong> %s</p><p>%s %s</p></div>',
			esc_html( $title ),
			/* translators: 1: the relay's answer, e.g. "401 invalid_api_key: the API key is unknown or revoked"; 2: date and time. */
			esc_html( sprintf( __( 'Last answer: %1$s (failing since %2$s).', 'relay-sms' ), $health['error'], wp_date( get_option( 'date_format' ) . ' ' . get_option( 'time_format' ), (int) $health['since'] ) ) ),
			/* translators: %d: number of events. */
			esc_html( sprintf( _n( '%d event is kept and retried automatically; nothing is lost.', '%d events are kept and retried automatically; nothing is lost.', $stats['queued'], 'relay-sms' ), $stats['queued'] ) ),
			wp_kses_post( $link )
		);
	}

	/**
	 * The "test connection" button: GET /v1/account; the tenant name or the exact error.
	 */
	public static function test_connection() {
		if ( ! current_user_can( Relay_SMS_Settings::CAP ) ) {
			wp_die( esc_html__( 'You are not allowed to do this.', 'relay-sms' ), 403 );
		}
		check_admin_referer( self::TEST );
		$answer = Relay_SMS_Client::account();
		$tenant = ( 200 === $answer['code'] && isset( $answer['json']['tenant'] ) && is_array( $answer['json']['tenant'] ) ) ? $answer['json']['tenant'] : null;
		if ( $tenant ) {
			$name = isset( $tenant['name'] ) ? sanitize_text_field( (string) $tenant['name'] ) : '';
			/* translators: 1: tenant name, 2: tenant id, 3: phone region. */
			$message = sprintf( __( 'Connected: this key belongs to the relay tenant "%1$s" (id %2$s, region %3$s).', 'relay-sms' ), $name, isset( $tenant['id'] ) ? sanitize_text_field( (string) $tenant['id'] ) : '?', isset( $tenant['region'] ) ? sanitize_text_field( (string) $tenant['region'] ) : '?' );
			self::result( 'success', $message );
			delete_option( self::CABINET );
			Relay_SMS_Queue::retry_now();
		} else {
			$error = '' !== $answer['error'] ? $answer['error'] : (string) $answer['code'] . ' ' . __( 'the answer did not name a tenant', 'relay-sms' );
			/* translators: %s: the relay's answer or the connection error. */
			self::result( 'error', sprintf( __( 'Connection failed: %s', 'relay-sms' ), $error ) );
		}
		wp_safe_redirect( Relay_SMS_Settings::url() );
		exit;
	}

	/**
	 * The cabinet link: POST /v1/cabinet/links and go there signed in. A relay without a
	 * cabinet (404) hides the link until the settings change or a connection test passes.
	 */
	public static function open_cabinet() {
		if ( ! current_user_can( Relay_SMS_Settings::CAP ) ) {
			wp_die( esc_html__( 'You are not allowed to do this.', 'relay-sms' ), 403 );
		}
		check_admin_referer( self::CABINET );
		$answer = Relay_SMS_Client::cabinet_link();
		$url    = ( in_array( $answer['code'], array( 200, 201 ), true ) && isset( $answer['json']['url'] ) ) ? (string) $answer['json']['url'] : '';
		if ( '' !== $url && in_array( wp_parse_url( $url, PHP_URL_SCHEME ), array( 'https', 'http' ), true ) ) {
			wp_redirect( esc_url_raw( $url ) ); // phpcs:ignore WordPress.Security.SafeRedirect.wp_redirect_wp_redirect -- the relay's own cabinet, on another host by design.
			exit;
		}
		if ( 404 === $answer['code'] ) {
			update_option( self::CABINET, 'absent', false );
			self::result( 'warning', __( 'This relay has no web cabinet; the link is hidden.', 'relay-sms' ) );
		} else {
			/* translators: %s: the relay's answer or the connection error. */
			self::result( 'error', sprintf( __( 'The relay did not give a cabinet link: %s', 'relay-sms' ), '' !== $answer['error'] ? $answer['error'] : (string) $answer['code'] ) );
		}
		wp_safe_redirect( Relay_SMS_Settings::url() );
		exit;
	}

	/**
	 * Keep a result for this user's next view of the page.
	 *
	 * @param string $type    success, warning or error.
	 * @param string $message Text.
	 */
	private static function result( $type, $message ) {
		set_transient( self::RESULT . get_current_user_id(), array( $type, $message ), 300 );
	}

	/**
	 * The page.
	 */
	public static function render() {
		if ( ! current_user_can( Relay_SMS_Settings::CAP ) ) {
			return;
		}
		echo '<div class="wrap relay-sms"><h1>' . esc_html__( 'Relay SMS', 'relay-sms' ) . '</h1>';
		$result = get_transient( self::RESULT . get_current_user_id() );
		if ( is_array( $result ) ) {
			delete_transient( self::RESULT . get_current_user_id() );
			printf( '<div class="notice notice-%s"><p>%s</p></div>', esc_attr( $result[0] ), esc_html( $result[1] ) );
		}
		settings_errors( Relay_SMS_Settings::OPTION );
		echo '<form method="post" action="' . esc_url( admin_url( 'options.php' ) ) . '">';
		settings_fields( Relay_SMS_Settings::PAGE );
		do_settings_sections( Relay_SMS_Settings::PAGE );
		submit_button();
		echo '</form>';

		echo '<h2>' . esc_html__( 'Connection', 'relay-sms' ) . '</h2><p>';
		printf(
			'<form method="post" action="%s" style="display:inline"><input type="hidden" name="action" value="%s" />%s<button type="submit" class="button" %s>%s</button></form> ',
			esc_url( admin_url( 'admin-post.php' ) ),
			esc_attr( self::TEST ),
			wp_nonce_field( self::TEST, '_wpnonce', true, false ),
			disabled( Relay_SMS_Settings::configured(), false, false ),
			esc_html__( 'Test connection', 'relay-sms' )
		);
		if ( Relay_SMS_Settings::configured() && 'absent' !== get_option( self::CABINET, '' ) ) {
			printf(
				'<form method="post" action="%s" target="_blank" style="display:inline"><input type="hidden" name="action" value="%s" />%s<button type="submit" class="button button-secondary">%s</button></form>',
				esc_url( admin_url( 'admin-post.php' ) ),
				esc_attr( self::CABINET ),
				wp_nonce_field( self::CABINET, '_wpnonce', true, false ),
				esc_html__( 'Open the relay cabinet', 'relay-sms' )
			);
		}
		echo '</p>';
		self::deliveries();
		echo '</div>';
	}

	/**
	 * The last 20 deliveries and what the queue holds.
	 */
	private static function deliveries() {
		$stats = Relay_SMS_Queue::stats();
		echo '<h2>' . esc_html__( 'Last deliveries to the relay', 'relay-sms' ) . '</h2>';
		/* translators: %d: number of events. */
		echo '<p>' . esc_html( sprintf( _n( '%d event waiting to be sent.', '%d events waiting to be sent.', $stats['queued'], 'relay-sms' ), $stats['queued'] ) ) . '</p>';
		$rows = Relay_SMS_Queue::recent( 20 );
		if ( empty( $rows ) ) {
			echo '<p>' . esc_html__( 'Nothing sent yet.', 'relay-sms' ) . '</p>';
			return;
		}
		$labels = array(
			Relay_SMS_Queue::QUEUED    => __( 'waiting (will retry)', 'relay-sms' ),
			Relay_SMS_Queue::SENT      => __( 'delivered', 'relay-sms' ),
			Relay_SMS_Queue::DISCARDED => __( 'refused as invalid', 'relay-sms' ),
			Relay_SMS_Queue::CONFLICT  => __( 'conflict (id already used)', 'relay-sms' ),
		);
		$format = get_option( 'date_format' ) . ' ' . get_option( 'time_format' );
		echo '<table class="widefat striped relay-sms-deliveries"><thead><tr><th>' . esc_html__( 'Time', 'relay-sms' ) . '</th><th>' . esc_html__( 'Event', 'relay-sms' ) . '</th><th>' . esc_html__( 'Status', 'relay-sms' ) . '</th><th>' . esc_html__( 'Tries', 'relay-sms' ) . '</th><th>' . esc_html__( 'Relay answer', 'relay-sms' ) . '</th></tr></thead><tbody>';
		foreach ( $rows as $row ) {
			$status = isset( $labels[ $row['status'] ] ) ? $labels[ $row['status'] ] : $row['status'];
			if ( Relay_SMS_Queue::QUEUED === $row['status'] && (int) $row['attempts'] > 0 ) {
				/* translators: %s: date and time of the next try. */
				$status .= ' - ' . sprintf( __( 'next try %s', 'relay-sms' ), wp_date( $format, (int) $row['next_at'] ) );
			}
			$answer = '' !== $row['last_error'] ? $row['last_error'] : ( null === $row['last_code'] ? '' : (string) $row['last_code'] );
			printf(
				'<tr><td>%s</td><td><code>%s</code><br /><small>%s</small></td><td>%s</td><td>%d</td><td>%s</td></tr>',
				esc_html( wp_date( $format, (int) $row['updated_at'] ) ),
				esc_html( $row['type'] ),
				esc_html( $row['event_id'] ),
				esc_html( $status ),
				(int) $row['attempts'],
				esc_html( $answer )
			);
		}
		echo '</tbody></table>';
	}
}
