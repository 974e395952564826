<?php
/**
 * "Open the relay cabinet" on the plugin's settings page: the button posts to admin-post.php,
 * which asks the relay for a one-time sign-in link (`POST {relay}/v1/cabinet/links`, the
 * store's admin API key) and sends the browser there. The link lives 2 minutes and works once,
 * so it is asked for on the click, never printed into the page.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

/**
 * Single sign-on into the relay's web cabinet.
 */
class Relay_SMS_Cabinet {

	const ACTION = 'relay_sms_open_cabinet';

	/**
	 * Hook the admin-post handler.
	 */
	public static function init() {
		add_action( 'admin_post_' . self::ACTION, array( __CLASS__, 'open' ) );
	}

	/**
	 * The button (a form of its own, outside the settings form).
	 */
	public static function button() {
		$settings = Relay_SMS_Settings::get();
		if ( '' === $settings['relay_url'] || '' === $settings['api_key'] ) {
			return;
		}
		echo '<form method="post" target="_blank" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
		echo '<input type="hidden" name="action" value="' . esc_attr( self::ACTION ) . '" />';
		wp_nonce_field( self::ACTION );
		submit_button( __( 'Open the relay cabinet', 'relay-sms' ), 'secondary', 'submit', false );
		echo '</form>';
	}

	/**
	 * Ask the relay for a link and go there (admin-post callback).
	 */
	public static function open() {
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			wp_die( esc_html__( 'You may not do this.', 'relay-sms' ), 403 );
		}
		check_admin_referer( self::ACTION );
		$settings = Relay_SMS_Settings::get();
		$response = wp_remote_post(
			untrailingslashit( $settings['relay_url'] ) . '/v1/cabinet/links',
			array(
				'timeout' => 10,
				'headers' => array(
					'Authorization' => 'Bearer ' . $settings['api_key'],
					'Content-Type'  => 'application/json',
					'Accept'        => 'application/json',
				),
				'body'    => wp_json_encode( array( 'platform' => 'woocommerce' ) ),
			)
		);
		$link = is_wp_error( $response ) ? null : self::link_from_response(
			(int) wp_remote_retrieve_response_code( $response ),
			(string) wp_remote_retrieve_body( $response ),
			$settings['relay_url']
		);
		if ( null === $link ) {
			wp_die( esc_html__( 'The relay did not give a sign-in link: check the relay address and the API key (it needs the admin scope).', 'relay-sms' ), 502 );
		}
		wp_redirect( $link ); // phpcs:ignore WordPress.Security.SafeRedirect -- the relay's own host, checked.
		exit;
	}

	/**
	 * The link in the relay's answer, or null: only a 201 whose `url` is on the relay's own
	 * scheme and host (never a redirect somewhere else).
	 *
	 * @param int    $status    HTTP status.
	 * @param string $body      Response body.
	 * @param string $relay_url The relay's address from the settings.
	 * @return string|null
	 */
	public static function link_from_response( $status, $body, $relay_url ) {
		if ( 201 !== $status ) {
			return null;
		}
		$data = json_decode( $body, true );
		if ( ! is_array( $data ) || ! isset( $data['url'] ) || ! is_string( $data['url'] ) ) {
			return null;
		}
		$link  = parse_url( $data['url'] );
		$relay = parse_url( $relay_url );
		if ( ! is_array( $link ) || ! is_array( $relay ) || ! isset( $link['host'], $link['scheme'], $relay['host'], $relay['scheme'] ) ) {
			return null;
		}
		if ( strtolower( $link['host'] ) !== strtolower( $relay['host'] ) || ! in_array( $link['scheme'], array( 'http', 'https' ), true ) ) {
			return null;
		}
		if ( 0 !== strpos( isset( $link['path'] ) ? $link['path'] : '', '/cabinet/sso' ) ) {
			return null;
		}
		return $data['url'];
	}
}
