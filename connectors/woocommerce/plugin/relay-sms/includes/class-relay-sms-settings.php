<?php
/**
 * The settings page (WooCommerce → Relay SMS), built on the Settings API.
 *
 * Settings live in the option `relay_sms_settings`; the API key in its own option
 * `relay_sms_api_key`, which is not autoloaded (it is read only when the relay is called) and
 * can be cleared from the page, or in the constant RELAY_SMS_API_KEY in wp-config.php, which
 * then wins. Shop managers (`manage_woocommerce`) can open and save the page.
 *
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

/**
 * Settings: relay URL, API key, consent wording, abandoned-cart delay and mode.
 */
class Relay_SMS_Settings {

	const OPTION     = 'relay_sms_settings';
	const KEY_OPTION = 'relay_sms_api_key';
	const PAGE       = 'relay-sms';
	const CAP        = 'manage_woocommerce';

	/**
	 * Cart modes: report carts of customers who ticked the consent box only (default), or
	 * every cart with a phone for a service reminder where the law allows it.
	 */
	const CART_MODES = array( 'consent', 'transactional' );

	/**
	 * The settings with defaults filled in.
	 *
	 * @return array
	 */
	public static function get() {
		$saved = get_option( self::OPTION, array() );
		$saved = is_array( $saved ) ? $saved : array();
		$mode  = isset( $saved['cart_mode'] ) ? (string) $saved['cart_mode'] : 'consent';
		return array(
			'relay_url'       => isset( $saved['relay_url'] ) ? Relay_SMS_Relay_Url::normalise( $saved['relay_url'] ) : '',
			'consent_wording' => Relay_SMS_Consent::wording( isset( $saved['consent_wording'] ) ? $saved['consent_wording'] : '' ),
			'cart_delay'      => Relay_SMS_Abandonment::delay_minutes( isset( $saved['cart_delay'] ) ? $saved['cart_delay'] : null ),
			'cart_mode'       => in_array( $mode, self::CART_MODES, true ) ? $mode : 'consent',
		);
	}

	/**
	 * The API key: the RELAY_SMS_API_KEY constant, else the saved one ('' when none).
	 *
	 * @return string
	 */
	public static function api_key() {
		if ( defined( 'RELAY_SMS_API_KEY' ) && '' !== (string) RELAY_SMS_API_KEY ) {
			return (string) RELAY_SMS_API_KEY;
		}
		return (string) get_option( self::KEY_OPTION, '' );
	}

	/**
	 * Whether plain http:// relay URLs are allowed beyond localhost (wp-config.php:
	 * `define( 'RELAY_SMS_ALLOW_HTTP', true );`, for development only).
	 *
	 * @return bool
	 */
	public static function allow_http() {
		return defined( 'RELAY_SMS_ALLOW_HTTP' ) && RELAY_SMS_ALLOW_HTTP;
	}

	/**
	 * Whether the relay URL and key are both set.
	 *
	 * @return bool
	 */
	public static function configured() {
		return '' !== self::get()['relay_url'] && '' !== self::api_key();
	}

	/**
	 * Hooks.
	 */
	public static function init() {
		add_action( 'admin_menu', array( __CLASS__, 'menu' ) );
		add_action( 'admin_init', array( __CLASS__, 'register' ) );
		// options.php asks for manage_options unless told otherwise: shop managers may save.
		add_filter( 'option_page_capability_' . self::PAGE, array( __CLASS__, 'capability' ) );
		add_action( 'update_option_' . self::OPTION, array( __CLASS__, 'changed' ) );
		add_action( 'add_option_' . self::OPTION, array( __CLASS__, 'changed' ) );
		add_action( 'update_option_' . self::KEY_OPTION, array( __CLASS__, 'changed' ) );
		add_action( 'add_option_' . self::KEY_OPTION, array( __CLASS__, 'changed' ) );
	}

	/**
	 * The capability to save the page.
	 *
	 * @return string
	 */
	public static function capability() {
		return self::CAP;
	}

	/**
	 * The page's address.
	 *
	 * @return string
	 */
	public static function url() {
		return admin_url( 'admin.php?page=' . self::PAGE );
	}

	/**
	 * The page under the WooCommerce menu.
	 */
	public static function menu() {
		add_submenu_page( 'woocommerce', __( 'Relay SMS', 'relay-sms' ), __( 'Relay SMS', 'relay-sms' ), self::CAP, self::PAGE, array( 'Relay_SMS_Admin', 'render' ) );
	}

	/**
	 * Register the option, its section and fields.
	 */
	public static function register() {
		register_setting(
			self::PAGE,
			self::OPTION,
			array(
				'type'              => 'array',
				'sanitize_callback' => array( __CLASS__, 'sanitize' ),
				'default'           => array(),
			)
		);
		add_settings_section( 'relay_sms_main', __( 'Connection and checkout', 'relay-sms' ), '__return_false', self::PAGE );
		$fields = array(
			'relay_url'       => __( 'Relay URL', 'relay-sms' ),
			'api_key'         => __( 'Relay API key', 'relay-sms' ),
			'consent_wording' => __( 'Consent wording at checkout', 'relay-sms' ),
			'cart_delay'      => __( 'Abandoned-cart delay (minutes)', 'relay-sms' ),
			'cart_mode'       => __( 'Abandoned-cart reminders', 'relay-sms' ),
		);
		foreach ( $fields as $key => $label ) {
			add_settings_field( 'relay_sms_' . $key, $label, array( __CLASS__, 'field' ), self::PAGE, 'relay_sms_main', array( 'key' => $key, 'label_for' => 'relay_sms_' . $key ) );
		}
	}

	/**
	 * Clean the submitted values. An empty key field keeps the saved key; "remove the key"
	 * clears it. The key goes to its own, not autoloaded option, never into this one. A relay
	 * URL that is not HTTPS is refused (the previous one stays) with an error on the page.
	 *
	 * @param mixed $input Submitted values.
	 * @return array
	 */
	public static function sanitize( $input ) {
		$input   = is_array( $input ) ? $input : array();
		$current = self::get();
		$url     = isset( $input['relay_url'] ) ? Relay_SMS_Relay_Url::normalise( sanitize_text_field( wp_unslash( $input['relay_url'] ) ) ) : $current['relay_url'];
		$problem = '' === $url ? '' : Relay_SMS_Relay_Url::problem( $url, self::allow_http() );
		if ( '' !== $problem ) {
			$messages = array(
				'http'        => __( 'The relay URL must start with https:// (the API key and phone numbers travel in every request). Plain http:// is accepted only for localhost, or with RELAY_SMS_ALLOW_HTTP in wp-config.php.', 'relay-sms' ),
				'credentials' => __( 'The relay URL must not contain a user name or password.', 'relay-sms' ),
				'invalid'     => __( 'The relay URL is not a valid address such as https://relay.example.', 'relay-sms' ),
			);
			add_settings_error( self::OPTION, 'relay_sms_url', $messages[ $problem ] );
			$url = $current['relay_url'];
		} elseif ( '' !== $url ) {
			$url = esc_url_raw( $url, array( 'https', 'http' ) );
		}
		$key = isset( $input['api_key'] ) ? trim( sanitize_text_field( wp_unslash( $input['api_key'] ) ) ) : '';
		if ( ! empty( $input['api_key_clear'] ) ) {
			delete_option( self::KEY_OPTION );
		} elseif ( '' !== $key ) {
			update_option( self::KEY_OPTION, substr( $key, 0, 200 ), false );
		}
		$mode = isset( $input['cart_mode'] ) ? sanitize_key( $input['cart_mode'] ) : $current['cart_mode'];
		return array(
			'relay_url'       => $url,
			'consent_wording' => isset( $input['consent_wording'] ) ? Relay_SMS_Consent::wording( sanitize_textarea_field( wp_unslash( $input['consent_wording'] ) ) ) : $current['consent_wording'],
			'cart_delay'      => Relay_SMS_Abandonment::delay_minutes( isset( $input['cart_delay'] ) ? $input['cart_delay'] : $current['cart_delay'] ),
			'cart_mode'       => in_array( $mode, self::CART_MODES, true ) ? $mode : 'consent',
		);
	}

	/**
	 * The settings changed: queued events get a fresh try with them at once.
	 */
	public static function changed() {
		delete_option( Relay_SMS_Queue::HEALTH );
		delete_option( Relay_SMS_Admin::CABINET );
		if ( self::configured() ) {
			Relay_SMS_Queue::retry_now();
		}
	}

	/**
	 * One field.
	 *
	 * @param array $args Field arguments.
	 */
	public static function field( $args ) {
		$settings = self::get();
		$key      = $args['key'];
		$id       = 'relay_sms_' . $key;
		$name     = self::OPTION . '[' . $key . ']';
		if ( 'consent_wording' === $key ) {
			printf( '<textarea id="%s" name="%s" rows="3" class="large-text">%s</textarea>', esc_attr( $id ), esc_attr( $name ), esc_textarea( $settings[ $key ] ) );
			echo '<p class="description">' . esc_html__( 'Shown next to the unticked checkbox and stored with every consent as evidence.', 'relay-sms' ) . '</p>';
		} elseif ( 'api_key' === $key ) {
			$saved = '' !== self::api_key();
			if ( defined( 'RELAY_SMS_API_KEY' ) && '' !== (string) RELAY_SMS_API_KEY ) {
				echo '<p>' . esc_html__( 'Set by RELAY_SMS_API_KEY in wp-config.php.', 'relay-sms' ) . '</p>';
				return;
			}
			printf( '<input type="password" id="%s" name="%s" value="" class="regular-text" autocomplete="off" placeholder="%s" />', esc_attr( $id ), esc_attr( $name ), esc_attr( $saved ? __( 'saved - leave empty to keep', 'relay-sms' ) : 'rk_...' ) );
			if ( $saved ) {
				printf( '<p><label><input type="checkbox" name="%s" value="1" /> %s</label></p>', esc_attr( self::OPTION . '[api_key_clear]' ), esc_html__( 'Remove the saved key', 'relay-sms' ) );
			}
			echo '<p class="description">' . esc_html__( 'A key of your relay tenant with the events:write scope (admin for the cabinet link). Stored apart from other settings and not loaded on every page.', 'relay-sms' ) . '</p>';
		} elseif ( 'cart_delay' === $key ) {
			printf( '<input type="number" id="%s" min="5" max="10080" name="%s" value="%d" />', esc_attr( $id ), esc_attr( $name ), (int) $settings[ $key ] );
		} elseif ( 'cart_mode' === $key ) {
			$labels = array(
				'consent'       => __( 'Only for customers who ticked the SMS consent box (recommended)', 'relay-sms' ),
				'transactional' => __( 'For every cart with a phone, as a service reminder (only where your law allows it without consent)', 'relay-sms' ),
			);
			printf( '<select id="%s" name="%s">', esc_attr( $id ), esc_attr( $name ) );
			foreach ( $labels as $value => $label ) {
				printf( '<option value="%s"%s>%s</option>', esc_attr( $value ), selected( $settings['cart_mode'], $value, false ), esc_html( $label ) );
			}
			echo '</select><p class="description">' . esc_html__( 'Without consent the plugin does not keep the phone typed at checkout at all. The relay still decides what is sent (its flow category, quiet hours, stop-list).', 'relay-sms' ) . '</p>';
		} else {
			printf( '<input type="url" id="%s" name="%s" value="%s" class="regular-text" placeholder="https://relay.example" />', esc_attr( $id ), esc_attr( $name ), esc_attr( $settings[ $key ] ) );
		}
	}
}
